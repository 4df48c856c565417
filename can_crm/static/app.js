// Progressive enhancement only: every core flow works without this file.
import { initAll } from "/assets/govuk/govuk-frontend.min.js";
initAll();
