// The markup of the password strength meter; public/strength-meter.js brings it to life. Hidden
// until the script runs, so a browser without JavaScript shows nothing half-working.
import { type Html, html } from './html.ts';
import type { PageView } from './layout.ts';

export function strengthMeter(view: PageView, fieldId: string): Html {
  const labels = [0, 1, 2, 3, 4].map((score) => view.text(`strength.${score}` as 'strength.0')).join('|');
  return html`<div class="strength">
      <meter id="${fieldId}-meter" min="0" max="4" low="2" high="3" optimum="4" value="0" hidden data-labels="${labels}" aria-label="${view.text('strength.label')}"></meter>
      <span id="${fieldId}-strength" class="hint" aria-live="polite"></span>
    </div>`;
}
