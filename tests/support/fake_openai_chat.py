"""A local OpenAI-compatible chat completions server that answers from a script.

`POST /v1/chat/completions` returns the real response shape (`chat.completion` with `choices[0].message`
holding `content` or `tool_calls`). Each script step is a callable taking the request body and returning
either `{"content": "..."}` or `{"tool_calls": [(name, arguments_dict), ...]}`, so a step can read the
tool results the brain fed back (for example the opaque slot ids it was given). Every request is kept
for the test to inspect.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

Step = Callable[[dict[str, Any]], dict[str, Any]]


def say(text: str) -> Step:
    return lambda _body: {"content": text}


def call(tool: str, /, **arguments: Any) -> Step:
    return lambda _body: {"tool_calls": [(tool, arguments)]}


def last_tool_result(body: dict[str, Any]) -> dict[str, Any]:
    for message in reversed(body["messages"]):
        if message["role"] == "tool":
            return json.loads(message["content"])
    return {}


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(m["content"]) for m in body["messages"] if m["role"] == "tool"]


class ScriptedChat:
    def __init__(self, steps: list[Step], model: str = "gpt-test") -> None:
        self.steps = list(steps)
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self._complete)

    async def _complete(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization", "") != "Bearer sk-test":
            return JSONResponse({"error": {"message": "bad key", "type": "invalid_request_error"}}, status_code=401)
        body = await request.json()
        self.requests.append(body)
        step = self.steps.pop(0) if self.steps else say("Is there anything else I can help with?")
        reply = step(body)
        message: dict[str, Any] = {"role": "assistant", "content": reply.get("content"), "refusal": None}
        finish = "stop"
        if reply.get("tool_calls"):
            n = len(self.requests)
            message["tool_calls"] = [
                {"id": f"call_{n}_{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
                for i, (name, args) in enumerate(reply["tool_calls"])
            ]
            finish = "tool_calls"
        return JSONResponse(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", self.model),
                "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }
        )
