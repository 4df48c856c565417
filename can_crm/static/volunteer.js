// Progressive enhancement for the volunteer pages: every form works without this file.
// With it, the app installs (service worker), and a progress update made without a signal is kept on the phone
// (IndexedDB) with its idempotency key and sent when the signal returns: none lost, none applied twice.
const DB_NAME = "can-volunteer";
const STORE = "outbox";

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/volunteer/sw.js", { scope: "/volunteer/" }).catch(() => {});
}

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "idempotency_key" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function withStore(mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const result = work(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(result.result === undefined ? result : result.result);
    tx.onerror = () => reject(tx.error);
  });
}

const put = (item) => withStore("readwrite", (store) => store.put(item));
const remove = (key) => withStore("readwrite", (store) => store.delete(key));
const everything = () => withStore("readonly", (store) => store.getAll());

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function say(reference, text) {
  const region = document.getElementById(`status-${reference}`);
  if (region) region.textContent = text;
}

async function send(item) {
  return fetch(`/api/v1/me/tasks/${encodeURIComponent(item.reference)}/progress`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify({ step: item.step, reason: item.reason || null, idempotency_key: item.idempotency_key }),
  });
}

let flushing = false;
async function flush() {
  if (flushing) return;
  flushing = true;
  let sent = 0;
  try {
    for (const item of await everything()) {
      let response;
      try {
        response = await send(item);
      } catch {
        return; // still no signal: try again later
      }
      if (response.ok) {
        await remove(item.idempotency_key);
        sent += 1;
        say(item.reference, "Sent.");
      } else if (response.status >= 400 && response.status < 500 && response.status !== 401 && response.status !== 429) {
        // Refused for good (for example the task was given to someone else): tell the volunteer, do not resend.
        const body = await response.json().catch(() => ({}));
        await remove(item.idempotency_key);
        say(item.reference, (body.error && body.error.message) || "This update was not accepted.");
        window.alert((body.error && body.error.message) || "This update was not accepted.");
      } else {
        return;
      }
    }
  } finally {
    flushing = false;
  }
  if (sent && navigator.onLine && ["/volunteer/tasks", "/volunteer/round"].includes(window.location.pathname)) window.location.reload();
}

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.matches("[data-progress]")) return;
  event.preventDefault();
  const data = new FormData(form);
  const step = event.submitter ? event.submitter.value : "";
  if (step === "could_not_deliver" && !data.get("reason")) {
    say(form.dataset.reference, "Choose why you could not deliver.");
    return;
  }
  await put({
    reference: form.dataset.reference,
    step,
    reason: step === "could_not_deliver" ? data.get("reason") : null,
    // The same key, with the step, as the form posts without this script: one update, however it is sent.
    idempotency_key: `${data.get("idempotency_key")}-${step}`,
  });
  say(form.dataset.reference, "Saved on your phone. It will be sent when you have a signal.");
  flush();
});

window.addEventListener("online", flush);
setInterval(flush, 15000);
flush();
