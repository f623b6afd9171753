"""The OpenAI Realtime speech engine: the model hears the caller and speaks, over one websocket per call.

    Twilio media (μ-law) ─► relay ─► input_audio_buffer.append ─► Realtime (audio/pcmu both ways)
    Twilio ◄─ media + mark ◄─ relay ◄─ response.output_audio.delta ◄─┘
                               │ function calls ─► tools (the conversation engine's guarded tools)

- `session_config.py`: session.update (voice, pcmu, semantic VAD, the phase's instructions and tools).
- `connection.py`: opening a session, and prewarming one while the voice webhook is answered.
- `relay.py`: one call: the event relay Twilio<->Realtime, tools, barge-in, rotation, fallback to offline.
- `twilio_out.py`: the model's audio to Twilio (the hot path; coalesced under load, a mark per message).
- `responses.py`: one response at a time.
- `tools.py`: running the model's function calls through the conversation engine and its guards.
- `playback.py`: what the caller actually heard (marks), for barge-in and truncation.
- `rotation.py`: moving a long call to a fresh session before the 60-minute cap.
- `record.py`, `usage.py`: the call record; token usage and its price.
- `doctor.py`: the key and the model, checked by `silentpartner doctor`.
"""
