// Live updates for the dashboard's lists: the server's event stream says that a call, booking or text of this
// business changed (nothing more); the page then reads itself again and swaps in the part marked live, keeping
// any <details> the owner has open. The stream ends every so often and reconnects by itself; each (re)connect
// reads the page again too, so a change made while it was away is not missed.
(() => {
  const region = document.getElementById("live-region");
  if (!region) return;
  const kinds = (region.dataset.live || "").split(/\s+/).filter(Boolean);
  const callSid = region.dataset.callSid;
  const url = "/dashboard/events" + (callSid ? `?call=${encodeURIComponent(callSid)}` : "");
  let timer = null;
  let connected = false;

  async function reload() {
    const response = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!response.ok) return;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = page.getElementById("live-region");
    if (!fresh) return;
    const open = new Set(
      Array.from(region.querySelectorAll("details[open]"), (d) => d.closest("[data-uid]")?.dataset.uid || d.dataset.key),
    );
    region.replaceChildren(...Array.from(fresh.childNodes, (node) => document.importNode(node, true)));
    for (const details of region.querySelectorAll("details")) {
      const key = details.closest("[data-uid]")?.dataset.uid || details.dataset.key;
      if (key && open.has(key)) details.open = true;
    }
    document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(reload, 300);
  }

  const source = new EventSource(url);
  source.addEventListener("ready", () => {
    if (connected) soon(); // a reconnect: something may have changed in between
    connected = true;
    document.body.dataset.live = "on";
  });
  source.addEventListener("refresh", soon);
  for (const kind of kinds) source.addEventListener(kind, soon);
  source.addEventListener("error", () => {
    document.body.dataset.live = "off";
  });
})();
