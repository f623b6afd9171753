"""Sans-I/O pieces of a live call: what the caller heard of a line, and DTMF gathering."""

from __future__ import annotations

from silentpartner.voice.codec import MarkFlushed, MarkPlayed, MediaStreamCodec
from silentpartner.voice.dtmf import DtmfGatherer
from silentpartner.voice.playback import ChunkTag, PlaybackTracker, split_sentences
from tests.voice.test_codec import connected, mark, start


def test_sentences_are_split_for_speaking_one_at_a_time() -> None:
    assert split_sentences("Thanks for calling. How can I help? Mike's out!") == [
        "Thanks for calling.",
        "How can I help?",
        "Mike's out!",
    ]
    assert split_sentences("It's at 2 p.m. Tomorrow works.") == ["It's at 2 p.m. Tomorrow works."]
    assert split_sentences("Sure. 2 PM it is.") == ["Sure.", "2 PM it is."]


def test_only_played_audio_counts_as_heard() -> None:
    codec = MediaStreamCodec()
    codec.receive(connected())
    codec.receive(start())
    tracker = PlaybackTracker()
    line = tracker.new_line("Thanks for calling Mike's Plumbing. How can I help you today?", True)
    # Sentence 0: 4 chunks of 100 bytes; sentence 1: 2 chunks of 100 bytes.
    names = []
    for sentence, total in ((0, 400), (1, 200)):
        line.total[sentence] = total
        for end in range(100, total + 1, 100):
            names.append(codec.send_audio(b"\xff" * 100, ChunkTag(line.id, sentence, end, total))[2])
    line.sent_all = True
    for seq, name in enumerate(names[:2]):
        event = codec.receive(mark(name, 10 + seq))
        assert isinstance(event, MarkPlayed)
        tracker.played(event.tag)
    assert line.heard_text() == "Thanks for"  # half of the first sentence's audio: half its words
    codec.clear()
    for seq, name in enumerate(names[2:]):
        event = codec.receive(mark(name, 20 + seq))
        assert isinstance(event, MarkFlushed)  # flushed by the clear: never heard
    assert line.heard_text() == "Thanks for"
    assert not line.fully_heard


def test_a_fully_played_line_is_heard_whole() -> None:
    tracker = PlaybackTracker()
    line = tracker.new_line("One moment. Let me check.", False)
    line.total = {0: 160, 1: 320}
    tracker.played(ChunkTag(line.id, 0, 160, 160))
    tracker.played(ChunkTag(line.id, 1, 320, 320))
    line.sent_all = True
    assert line.fully_heard and line.heard_text() == "One moment. Let me check."


def test_keys_end_with_hash_or_a_pause() -> None:
    keys = DtmfGatherer(pause_s=2.0)
    assert keys.press("1", 0.0) is None
    assert keys.press("2", 0.5) is None
    assert keys.poll(2.4) is None
    assert keys.press("#", 2.4) == "12"
    assert keys.press("#", 2.5) is None  # a lone # is nothing
    assert keys.press("9", 3.0) is None
    assert keys.deadline() == 5.0
    assert keys.poll(4.9) is None
    assert keys.poll(5.0) == "9"
    assert keys.poll(9.0) is None
