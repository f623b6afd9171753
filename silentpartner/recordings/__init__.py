"""Call recordings once they are files: where they are kept (`storage`), and how a call finds, serves and
loses its recording (`catalog`, `http`). Making them is the voice package's job (`voice/recording.py`
taps a live call, `voice/recording_files.py` compresses and files it); purging them is a job
(`messaging/handlers.py`, kind `recording_purge`)."""
