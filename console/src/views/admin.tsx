import { useState } from 'preact/hooks';
import { Section, type ViewProps } from '../ui';

/**
 * Admin: find a person by email, download their export, and erase them. The API's answers are
 * shown as they come (erasure may answer with a job and its status URL).
 */
export function AdminView({ api }: ViewProps) {
  const [email, setEmail] = useState('');
  const [result, setResult] = useState<{ kind: 'export' | 'erasure'; body: unknown }>();
  const [error, setError] = useState<string>();
  const [confirming, setConfirming] = useState(false);

  const run = async (kind: 'export' | 'erasure') => {
    setError(undefined);
    try {
      const body =
        kind === 'export' ? await api.exportPerson(email.trim()) : await api.erasePerson(email.trim());
      setResult({ kind, body });
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setConfirming(false);
    }
  };
  const found = (result?.body as { found?: boolean } | undefined)?.found;
  const download =
    result?.kind === 'export' && found
      ? URL.createObjectURL(new Blob([JSON.stringify(result.body, null, 2)], { type: 'application/json' }))
      : undefined;

  return (
    <>
      <h1>Admin</h1>
      <Section title="Find a person">
        <form
          class="stack"
          onSubmit={(e) => {
            e.preventDefault();
            void run('export');
          }}
        >
          <label for="person-email">Email</label>
          <input
            id="person-email"
            type="email"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
          <span class="actions">
            <button type="submit" class="primary">
              Find
            </button>
            {!confirming ? (
              <button
                type="button"
                class="danger"
                disabled={!email.trim()}
                onClick={() => setConfirming(true)}
              >
                Erase…
              </button>
            ) : (
              <>
                <button type="button" class="danger" onClick={() => void run('erasure')}>
                  Erase {email} for good
                </button>
                <button type="button" onClick={() => setConfirming(false)}>
                  Cancel
                </button>
              </>
            )}
          </span>
        </form>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
      </Section>
      {result && (
        <Section title={result.kind === 'export' ? 'Export' : 'Erasure'}>
          <p role="status">
            {result.kind === 'export' ? (found ? 'Found.' : 'No lead with this email.') : 'The API answered:'}{' '}
            {download && (
              <a href={download} download={`${email.trim()}.json`}>
                Download the export (JSON)
              </a>
            )}
          </p>
          <label for="api-answer" class="visually-hidden">
            The API's answer
          </label>
          <textarea
            id="api-answer"
            class="json"
            readOnly
            rows={16}
            value={JSON.stringify(result.body, null, 2)}
          />
        </Section>
      )}
    </>
  );
}
