// The volunteer app's service worker (scope /volunteer/). It keeps only the task list (accepted tasks), the
// delivery round, and the assets that draw them, so both stay readable without a signal. Sign-out sends Clear-Site-Data, which
// removes this cache, the queued updates and this worker.
const CACHE = "can-volunteer-v1";
const KEPT = ["/volunteer/tasks", "/volunteer/round"];

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

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
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request).then((r) => keep(request, r))));
  }
});
