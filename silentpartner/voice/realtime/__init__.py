"""The OpenAI Realtime speech engine: the model hears the caller and speaks, over one websocket per call.

    Twilio media (μ-law) ─► relay ─► input_audio_buffer.append ─► Realtime (audio/pcmu both ways)
    Twilio ◄─ media + mark ◄─ relay ◄─ response.output_audio.delta ◄─┘
                               │ function calls ─► tools (the conversation engine's guarded tools)

- `session_config.py`: session.update (voice, pcmu, semantic VAD, the phase's instructions and tools).
- `connection.py`: opening a session, and prewarming one while the voice webhook is answered.
- `relay.py`: one call: the event relay Twilio<->Realtime, responses, rotation, fallback to offline.
- `tools.py`: running the model's function calls through the conversation engine and its guards.
- `playback.py`: what the caller actually heard (marks), for barge-in and truncation.
- `usage.py`: token usage and its price.
"""
