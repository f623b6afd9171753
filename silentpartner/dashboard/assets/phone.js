// The browser phone: speaks Twilio's Media Streams protocol to the server's /twilio/media websocket, as Twilio
// does for a phone call (connected, start with the one-time token, 20 ms mu-law `media`, `mark` echoes, `stop`),
// so the call runs through the same code. Audio in and out is the AudioWorklet's (phone-worklet.js). The
// transcript comes from the server: the live stream says when this call's record changed, and the page reads
// the call (/api/calls/{id}) to show it.
(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const callButton = document.getElementById("call-button");
  const hangupButton = document.getElementById("hangup-button");
  const statusLine = document.getElementById("phone-status");
  const transcript = document.getElementById("phone-transcript");
  let socket = null;
  let context = null;
  let microphone = null;
  let events = null;
  let ended = false;

  const say = (text) => {
    statusLine.textContent = text;
  };

  function randomHex(bytes) {
    return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function toBase64(bytes) {
    let text = "";
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text);
  }

  function fromBase64(text) {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  }

  async function openCall() {
    const response = await fetch("/dashboard/phone/calls", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf },
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || `the server answered ${response.status}`);
    return body;
  }

  async function start() {
    callButton.disabled = true;
    ended = false;
    transcript.replaceChildren();
    say("Calling…");
    try {
      const call = await openCall();
      // Echo cancellation keeps the agent's voice from the speaker out of the microphone (it would barge in).
      // The browser's noise suppression and gain control are off: they garbled words for the speech recognizer
      // in testing, and the receptionist's own voice detection deals with background noise.
      microphone = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: false, autoGainControl: false },
      });
      context = new AudioContext();
      await context.audioWorklet.addModule("/dashboard/assets/phone-worklet.js");
      const line = new AudioWorkletNode(context, "phone-line", { numberOfOutputs: 1, outputChannelCount: [1] });
      context.createMediaStreamSource(microphone).connect(line);
      line.connect(context.destination);
      await context.resume();
      followTranscript(call);
      connect(call, line);
    } catch (error) {
      finish(`Could not call: ${error.message}`);
    }
  }

  function connect(call, line) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(`${scheme}//${location.host}${call.media_path}`);
    const streamSid = `MZ${randomHex(16)}`;
    let sequence = 0;
    let chunk = 0;
    const send = (message) => {
      if (socket && socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify({ ...message, sequenceNumber: String(++sequence), streamSid }));
      }
    };
    socket.addEventListener("open", () => {
      socket.send(JSON.stringify({ event: "connected", protocol: "Call", version: "1.0.0" }));
      send({
        event: "start",
        start: {
          streamSid,
          callSid: call.call_sid,
          tracks: ["inbound"],
          mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
          customParameters: { token: call.token, call_sid: call.call_sid },
        },
      });
      line.port.onmessage = (event) => {
        const message = event.data;
        if (message.type === "frame") {
          chunk += 1;
          send({
            event: "media",
            media: { track: "inbound", chunk: String(chunk), timestamp: String(chunk * 20), payload: toBase64(message.ulaw) },
          });
        } else if (message.type === "mark") {
          send({ event: "mark", mark: { name: message.name } });
        }
      };
      line.port.postMessage({ type: "capture", on: true });
      hangupButton.hidden = false;
      hangupButton.onclick = () => {
        send({ event: "stop", stop: { callSid: call.call_sid } });
        finish("You hung up.");
      };
      say("Connected.");
      document.body.dataset.call = "connected";
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.event === "media" && message.media && message.media.payload) {
        line.port.postMessage({ type: "play", ulaw: fromBase64(message.media.payload) });
      } else if (message.event === "mark" && message.mark) {
        line.port.postMessage({ type: "mark", name: message.mark.name });
      } else if (message.event === "clear") {
        line.port.postMessage({ type: "clear" });
      }
    });
    socket.addEventListener("close", (event) => {
      finish(event.code === 1000 ? "The call has ended." : `The call was closed (${event.code}).`);
    });
  }

  function followTranscript(call) {
    const show = async () => {
      const response = await fetch(`/api/calls/${call.call_id}`, { credentials: "same-origin" });
      if (!response.ok) return;
      const detail = await response.json();
      transcript.replaceChildren(
        ...detail.transcript.map((turn) => {
          const item = document.createElement("li");
          item.className = `turn ${turn.role}`;
          const who = document.createElement("span");
          who.className = "who";
          who.textContent = turn.role === "caller" ? "You" : "Receptionist";
          const text = document.createElement("p");
          text.textContent = turn.text;
          item.append(who, text);
          if (turn.latency_ms !== null) {
            const meta = document.createElement("span");
            meta.className = "meta";
            meta.textContent = `answered in ${turn.latency_ms} ms`;
            item.append(meta);
          }
          return item;
        }),
      );
    };
    let pending = null;
    const soon = () => {
      clearTimeout(pending);
      pending = setTimeout(show, 150);
    };
    events = new EventSource(`/dashboard/events?call=${encodeURIComponent(call.call_sid)}`);
    events.addEventListener("call", soon);
    events.addEventListener("refresh", soon);
    events.addEventListener("ready", soon);
  }

  function finish(text) {
    if (ended) return;
    ended = true;
    say(text);
    document.body.dataset.call = "ended";
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000);
    if (microphone) microphone.getTracks().forEach((track) => track.stop());
    if (context) context.close();
    // Keep following the transcript a moment: the last lines are written as the call closes.
    if (events) setTimeout(() => events.close(), 3000);
    hangupButton.hidden = true;
    callButton.disabled = false;
  }

  callButton.addEventListener("click", start);
})();
