/** What the local Slack webhook recorded, and its page: each alert drawn roughly as Slack would. */

export interface SlackRecord {
  readonly path: string;
  readonly body: unknown;
  readonly at: string;
  /** The message that replaced this one through its `response_url` (a button press), latest first. */
  replacedBy?: unknown;
  /** Ephemeral replies sent through its `response_url`: what only the presser saw. */
  ephemeral?: unknown[];
}

/** Where the recorder's buttons post, and how they sign, like Slack's interactivity requests. */
export interface LocalSlackActions {
  readonly url: string;
  /** The `response_url` prefix the runtime redirects back here. */
  readonly responseBase: string;
  readonly signingSecret: () => string;
}

/** The parts of a Block Kit block the recorder page draws. */
export interface SlackBlockLike {
  readonly type: string;
  readonly text?: { readonly text?: string };
  readonly fields?: ReadonlyArray<{ readonly text?: string }>;
  readonly elements?: ReadonlyArray<{
    readonly type?: string;
    readonly text?: string | { readonly text?: string };
    readonly action_id?: string;
    readonly url?: string;
  }>;
}

function esc(text: unknown): string {
  return String(text ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/**
 * The Slack recorder as a page: each alert as Slack would draw it (roughly), newest first, with
 * its buttons. "Mark contacted" presses as the chosen Slack member (the members the message
 * mentions are offered); "Open" follows its link. The page reloads itself after a press.
 */
export function slackRecorderPage(records: readonly SlackRecord[]): string {
  const items = records
    .map((record, index) => {
      const message = (record.replacedBy ?? record.body) as { text?: string; blocks?: SlackBlockLike[] };
      const members = [...new Set(JSON.stringify(record.body).match(/<@[UW][A-Z0-9]+>/g) ?? [])].map((m) =>
        m.slice(2, -1),
      );
      const blocks = (message.blocks ?? [])
        .map((b) => {
          if (b.type === 'actions')
            return `<p class="actions">${(b.elements ?? [])
              .map((e) => {
                const label = esc(typeof e.text === 'string' ? e.text : e.text?.text);
                return e.url
                  ? `<a class="button" href="${esc(e.url)}" target="_blank" rel="noopener">${label}</a>`
                  : `<button type="button" data-record="${index}" data-action="${esc(e.action_id)}">${label}</button>`;
              })
              .join(' ')}${
              (b.elements ?? []).some((e) => !e.url)
                ? ` <label>as <select data-user-for="${index}">${members.map((m) => `<option>${esc(m)}</option>`).join('')}</select></label>`
                : ''
            }</p>`;
          const texts = [b.text?.text, ...(b.fields ?? []).map((f) => f.text)].filter(Boolean);
          const elements =
            b.type === 'context'
              ? (b.elements ?? []).map((e) => (typeof e.text === 'string' ? e.text : ''))
              : [];
          return `<pre class="${esc(b.type)}">${esc([...texts, ...elements].join('\n'))}</pre>`;
        })
        .join('\n');
      const replies = (record.ephemeral ?? [])
        .map((r) => `<p class="ephemeral">Only you can see this: ${esc((r as { text?: string }).text)}</p>`)
        .join('');
      return `<article id="message-${index}"${record.replacedBy ? ' class="updated"' : ''}><header>${esc(record.at)}${
        record.replacedBy ? ' · updated' : ''
      }</header>${blocks}${replies}</article>`;
    })
    .reverse()
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Slack recorder</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.4 system-ui,sans-serif;margin:1rem auto;max-width:52rem;padding:0 1rem}
article{border:1px solid #ccc;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}article.updated{border-color:#2a7}
header{color:#555;font-size:.85rem}pre{white-space:pre-wrap;font:inherit;margin:.4rem 0}pre.header{font-weight:bold}
pre.context{color:#555;font-size:.9rem}.button,button{border:1px solid #888;border-radius:4px;background:#fff;padding:.3rem .8rem;
color:inherit;text-decoration:none;cursor:pointer;font:inherit}.ephemeral{background:#f4f4f4;padding:.3rem}</style></head>
<body><main><h1>Slack recorder</h1>
<p>What the alert function posted to the Slack webhook, newest first. Buttons are pressed as the chosen Slack member,
signed with the local signing secret exactly as Slack signs them. JSON: <code>Accept: application/json</code>.</p>
${items || '<p>No Slack messages yet.</p>'}
</main><script>
document.addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-action]');
  if (!button) return;
  const record = Number(button.dataset.record);
  const userId = document.querySelector('[data-user-for="' + record + '"]').value;
  button.disabled = true;
  await fetch('/_local/slack/press', { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ record, actionId: button.dataset.action, userId }) });
  location.reload();
});
</script></body></html>`;
}
