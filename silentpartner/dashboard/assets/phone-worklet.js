// The browser phone's audio line, run on the audio thread (an AudioWorklet).
//
// Capture: microphone samples at the context's rate -> 8 kHz (each output sample the mean of the input samples
// its 1/8000 s covers, which also keeps what cannot be carried at 8 kHz from folding back as noise) -> G.711
// mu-law -> 160-byte (20 ms) frames, posted to the page, which sends them as Media Streams `media` messages.
//
// Playback, as Twilio plays a bidirectional stream: the agent's mu-law chunks are queued in order and played
// at real time (8 kHz -> the context's rate, linear interpolation); a `mark` queued after audio is posted back
// when the audio before it has played (at once when nothing is queued); `clear` drops the queued audio and
// posts back every pending mark.
//
// The mu-law coder matches the server's (silentpartner/voice/audio.py: audioop's 14-bit coder) bit for bit.

const PHONE_RATE = 8000;
const FRAME_BYTES = 160;
const SEGMENT_ENDS = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];

function linearToUlaw(sample16) {
  const x = sample16 >> 2;
  const negative = x < 0;
  const magnitude = Math.min(negative ? -x : x, 8159) + 0x21;
  let segment = 0;
  while (segment < 8 && SEGMENT_ENDS[segment] < magnitude) segment++;
  const code = segment >= 8 ? 0x7f : (segment << 4) | ((magnitude >> (segment + 1)) & 0x0f);
  return (code ^ (negative ? 0x7f : 0xff)) & 0xff;
}

function ulawToLinear(code) {
  const u = ~code & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

function floatToInt16(value) {
  return Math.max(-32768, Math.min(32767, Math.round(value * 32768)));
}

if (typeof registerProcessor === "function") {
  class PhoneLine extends AudioWorkletProcessor {
    constructor() {
      super();
      this.capturing = false;
      this.inPerOut = sampleRate / PHONE_RATE;
      this.sum = 0;
      this.count = 0;
      this.position = 0;
      this.frame = new Uint8Array(FRAME_BYTES);
      this.filled = 0;
      this.queue = []; // {samples: Float32Array, offset} | {mark: name}
      this.step = PHONE_RATE / sampleRate;
      this.previous = 0; // the last 8 kHz sample played, for interpolating across chunks
      this.phase = 0;
      this.port.onmessage = (event) => this.onMessage(event.data);
    }

    onMessage(message) {
      if (message.type === "capture") {
        this.capturing = message.on;
      } else if (message.type === "play") {
        this.queue.push({ samples: this.upsample(message.ulaw), offset: 0 });
      } else if (message.type === "mark") {
        this.queue.push({ mark: message.name });
        this.echoReadyMarks();
      } else if (message.type === "clear") {
        const marks = this.queue.filter((item) => item.mark !== undefined);
        this.queue = [];
        this.previous = 0;
        this.phase = 0;
        for (const item of marks) this.port.postMessage({ type: "mark", name: item.mark });
      }
    }

    upsample(ulaw) {
      const samples = Array.from(ulaw, (code) => ulawToLinear(code) / 32768);
      const out = [];
      let t = this.phase;
      while (t < samples.length) {
        const i = Math.floor(t);
        const before = i === 0 ? this.previous : samples[i - 1];
        out.push(before + (samples[i] - before) * (t - i));
        t += this.step;
      }
      this.phase = t - samples.length;
      if (samples.length) this.previous = samples[samples.length - 1];
      return Float32Array.from(out);
    }

    echoReadyMarks() {
      while (this.queue.length && this.queue[0].mark !== undefined) {
        this.port.postMessage({ type: "mark", name: this.queue.shift().mark });
      }
    }

    capture(input) {
      for (let i = 0; i < input.length; i++) {
        this.sum += input[i];
        this.count++;
        this.position++;
        if (this.position >= this.inPerOut) {
          this.position -= this.inPerOut;
          this.frame[this.filled++] = linearToUlaw(floatToInt16(this.sum / this.count));
          this.sum = 0;
          this.count = 0;
          if (this.filled === FRAME_BYTES) {
            this.port.postMessage({ type: "frame", ulaw: this.frame.slice() });
            this.filled = 0;
          }
        }
      }
    }

    process(inputs, outputs) {
      const input = inputs[0] && inputs[0][0];
      if (this.capturing && input) this.capture(input);
      const out = outputs[0][0];
      let written = 0;
      this.echoReadyMarks();
      while (written < out.length && this.queue.length) {
        const head = this.queue[0];
        const n = Math.min(out.length - written, head.samples.length - head.offset);
        out.set(head.samples.subarray(head.offset, head.offset + n), written);
        head.offset += n;
        written += n;
        if (head.offset >= head.samples.length) {
          this.queue.shift();
          this.echoReadyMarks();
        }
      }
      out.fill(0, written);
      return true;
    }
  }

  registerProcessor("phone-line", PhoneLine);
}
