/**
 * Escaping for HTML text and attribute values, as a pure string function. It lives in the domain
 * because the email rules need it: which personal values are escaped, and in which part (the
 * HTML part only, never the subject or the plain-text part), is a rule of rendering a lead email
 * (`email-render.ts`), not a transport detail. The HTTP pages use the same function.
 */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
