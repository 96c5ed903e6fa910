// Where a detour (the step-up page) sends the browser back to. Only a path of this site, with an
// optional simple query and fragment: never another host (`//evil`, `/\evil`, `https:`), so the
// value a form or URL carries can never become an open redirect.
const LOCAL_PATH = /^\/(?![/\\])[\w\-/.]*(\?[\w\-=&%.]*)?(#[\w-]*)?$/;

export function localReturnPath(value: unknown): string | undefined {
  return typeof value === 'string' && value.length <= 300 && LOCAL_PATH.test(value) ? value : undefined;
}

/** The step-up page's URL that comes back to `path` (validated again when it is read). */
export function stepUpUrl(path: string): string {
  return `/account/verify?return=${encodeURIComponent(path)}`;
}
