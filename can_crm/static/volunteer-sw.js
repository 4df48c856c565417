// The volunteer app's service worker (scope /volunteer/). It keeps only the task list (accepted tasks), the
// delivery round, and the assets that draw them, so both stay readable without a signal. Sign-out sends Clear-Site-Data, which
// removes this cache, the queued updates and this worker.
const CACHE = "can-volunteer-v2";
const KEPT = ["/volunteer/tasks", "/volunteer/round"];

self.addEventListener("install", () => self.skipWaiting());
// An older version's cache goes: its assets may be out of date, and its pages are refetched anyway.
self.addEventListener("activate", (event) =>
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  ),
);

function keep(request, response) {
  if (response.ok) {
    const copy = response.clone();
    caches.open(CACHE).then((cache) => cache.put(request, copy));
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (KEPT.includes(url.pathname)) {
    // Network first: the freshest page when there is a signal, the last one seen when there is none.
    const page = url.pathname;
    event.respondWith(
      fetch(request)
        .then((response) => (response.redirected ? response : keep(page, response)))
        .catch(() => caches.match(page).then((hit) => hit || Response.error())),
    );
    return;
  }
  if (url.pathname.startsWith("/assets/") || url.pathname.startsWith("/static/")) {
    // Stale while revalidate: the kept copy at once (quick on a weak signal, there with none), and a fresh one
    // fetched behind it for next time, so a new version of the styles or scripts reaches the phone.
    const fresh = fetch(request).then((response) => keep(request, response));
    event.respondWith(caches.match(request).then((hit) => hit || fresh));
    event.waitUntil(fresh.then(() => undefined, () => undefined));
  }
});
