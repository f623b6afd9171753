"""`doctor` checks for the Realtime speech engine: which businesses it answers for, the key, and the model.

A business that asks for realtime without OPENAI_API_KEY gets one line (its calls use the offline engine).
With a key, the model is looked up on the API: a refused key or a model this key cannot use is a failure
found now rather than on the first call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from silentpartner.findings import Finding
from silentpartner.settings import REALTIME_MODELS
from silentpartner.voice.engines import engine_for

if TYPE_CHECKING:
    from silentpartner.runtime import Runtime

LOOKUP_TIMEOUT_S = 10.0


async def check_realtime(runtime: Runtime) -> list[Finding]:
    settings = runtime.settings
    out: list[Finding] = []
    realtime = []
    for business in runtime.businesses:
        engine, why = engine_for(settings, business)
        if engine == "realtime":
            realtime.append(business.slug)
        elif business.speech == "realtime":
            out.append(Finding("warn", f"business {business.slug} speech", why))
    if not realtime:
        return out
    model = settings.openai_realtime_model
    subject = "OPENAI_REALTIME_MODEL"
    if model not in REALTIME_MODELS:
        out.append(
            Finding(
                "fail",
                subject,
                f"{model!r} is not a current Realtime model (gpt-realtime and the beta interface are retired); "
                f"use one of {', '.join(REALTIME_MODELS)}",
            )
        )
    if model not in settings.realtime_prices:
        out.append(Finding("warn", "REALTIME_PRICES", f"no prices for {model}: calls record tokens but no cost"))
    out.append(await _lookup_model(settings, model, realtime))
    return out


async def _lookup_model(settings, model: str, businesses: list[str]) -> Finding:
    import openai

    client = openai.AsyncOpenAI(
        api_key=settings.secret("openai_api_key"), base_url=settings.openai_base_url, max_retries=0
    )
    try:
        await client.models.retrieve(model, timeout=LOOKUP_TIMEOUT_S)
    except openai.AuthenticationError:
        return Finding("fail", "OPENAI_API_KEY", "refused by OpenAI: set a valid key, or speech = 'offline'")
    except openai.NotFoundError:
        return Finding(
            "fail", "OPENAI_REALTIME_MODEL", f"{model!r} is not available to this key; pick another Realtime model"
        )
    except openai.APIError as exc:
        return Finding("warn", "OpenAI Realtime", f"could not check the key and model ({type(exc).__name__}): {exc}")
    finally:
        await client.close()
    return Finding("ok", "OpenAI Realtime", f"{model} answers calls for {', '.join(businesses)}")
