/**
 * Realistic, unique landing-page submissions for the benchmark. Every call returns a new person
 * (the email's local part carries the run id and a sequence number), so each request is a new
 * lead rather than a dedupe merge or an idempotent replay.
 *
 * The mix follows what a B2B landing page sees (against `clients/example.yaml`'s scoring):
 * - `enterprise`: an executive at a 1,000+ employee software company: MQL on fit alone, routed
 *   at once by the `enterprise` rule (outside hours too), alerted, SLA clock started;
 * - `mql`: a manager at a mid-size software company: MQL, routed in working hours, held outside;
 * - `nurture`: students, assistants and free-mail addresses: below MQL, put in a nurture
 *   sequence; half of them give marketing consent (so nurture emails go out).
 */

export type LeadKind = 'enterprise' | 'mql' | 'nurture';

/** Three in ten enterprise, three in ten MQL, four in ten nurture. */
const MIX: readonly LeadKind[] = [
  'enterprise',
  'mql',
  'nurture',
  'enterprise',
  'nurture',
  'mql',
  'nurture',
  'enterprise',
  'mql',
  'nurture',
];

const FIRST = ['Elena', 'Marcus', 'Aoife', 'Tom', 'Camille', 'Priyanka', 'Jonas', 'Sara', 'Liu', 'Mateo'];
const LAST = ['Vogel', 'Reed', 'Byrne', 'Hughes', 'Durand', 'Rao', 'Berg', 'Lind', 'Wei', 'Garcia'];

const ENTERPRISE = [
  { company: 'Brightlane', domain: 'brightlane.io', title: 'VP of Engineering', size: '2500', country: 'US' },
  {
    company: 'Kontor Software',
    domain: 'kontor-software.de',
    title: 'Chief Product Officer',
    size: '1200',
    country: 'DE',
  },
  { company: 'Ledgerline', domain: 'ledgerline.ie', title: 'Head of Data', size: '1800', country: 'GB' },
  { company: 'CloudHarbor', domain: 'cloudharbor.com', title: 'CTO', size: '4000', country: 'CA' },
];
const MQL = [
  {
    company: 'Atelier Data',
    domain: 'atelier-data.fr',
    title: 'Analytics Manager',
    size: '350',
    country: 'FR',
  },
  {
    company: 'ParcelPoint',
    domain: 'parcelpoint.co.uk',
    title: 'Product Manager',
    size: '420',
    country: 'GB',
  },
  { company: 'Northbeam', domain: 'northbeam.com', title: 'Engineering Manager', size: '650', country: 'US' },
];
const NURTURE = [
  { company: '', domain: 'gmail.com', title: 'Student', size: '1', country: 'US' },
  {
    company: 'Lind Design',
    domain: 'outlook.com',
    title: 'Junior Marketing Assistant',
    size: '5',
    country: 'SE',
  },
  { company: 'Freelance', domain: 'yahoo.es', title: 'Intern', size: '1', country: 'ES' },
  { company: 'Corner Shop', domain: 'cornershop.co.uk', title: 'Owner', size: '8', country: 'GB' },
];

/** What the benchmark remembers about a submission it sent. */
export interface SentLead {
  readonly kind: LeadKind;
  readonly email: string;
  readonly marketingConsent: boolean;
}

/** The kind of the `seq`-th lead of the standard mix. */
export function kindOf(seq: number): LeadKind {
  return MIX[seq % MIX.length] ?? 'nurture';
}

/**
 * One JSON submission as a landing page's script posts it to `POST /leads`.
 * @param seq unique per run (it makes the email unique)
 * @param runId distinguishes runs against a persisted data directory
 * @param options.country overrides the country (speed-to-lead leads pick a team on shift)
 * @param options.visitorId the anonymous visitor id (`_vid`) whose tracked events are attached
 */
export function benchLead(
  seq: number,
  runId: string,
  options: { kind?: LeadKind; country?: string; visitorId?: string } = {},
): { body: Record<string, string>; sent: SentLead } {
  const kind = options.kind ?? kindOf(seq);
  const pool = kind === 'enterprise' ? ENTERPRISE : kind === 'mql' ? MQL : NURTURE;
  const org = pool[seq % pool.length] ?? NURTURE[0];
  const first = FIRST[seq % FIRST.length] ?? 'Alex';
  const last = LAST[Math.floor(seq / FIRST.length) % LAST.length] ?? 'Smith';
  const email = `${first}.${last}.${runId}.${seq}@${org?.domain ?? 'example.org'}`.toLowerCase();
  // Alternate per round of the mix, not per sequence number: 3 of the 4 nurture positions in the
  // mix are even, so `seq % 2` would give 75% consent instead of the half the mix describes.
  const round = Math.floor(seq / MIX.length);
  const marketingConsent = kind === 'nurture' ? round % 2 === 0 : seq % 3 === 0;
  const body: Record<string, string> = {
    // Rendered 20 s ago: well past the client's minimum time to submit (bot check).
    _ts: String(Date.now() - 20_000),
    first_name: first,
    last_name: last,
    email,
    company: org?.company ?? '',
    job_title: org?.title ?? '',
    company_size: org?.size ?? '',
    industry: kind === 'nurture' ? 'Retail' : 'Software',
    country: options.country ?? org?.country ?? 'GB',
    message: 'We would like to see how product analytics could work for our team.',
    marketing_consent: marketingConsent ? 'yes' : 'no',
    utm_source: seq % 2 === 0 ? 'google' : 'linkedin',
    utm_medium: 'cpc',
    utm_campaign: 'bench-q4',
    form_id: 'demo-request',
    landing_page: 'https://www.northwind.example/demo',
  };
  if (kind === 'enterprise') body.phone = `+1 415 555 ${String(1000 + (seq % 9000)).padStart(4, '0')}`;
  if (options.visitorId) body._vid = options.visitorId;
  return { body, sent: { kind, email, marketingConsent } };
}
