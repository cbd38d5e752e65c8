import type { ClientConfig } from '../config/schema';
import { earnsBookingOffer } from './booking';
import type { Lead } from './lead';
import type { LeadEmailHistory } from './report-nurture';
import { rate } from './report-stats';
/** Meetings booked from the instant offer against rep outreach. */

// ------------------------------------------------------------------------------------ bookings

/** Meetings booked through a scheduling tool, by where the booking came from. */
export interface BookingCounts {
  /** Booked from the link the thank-you page offered (its marker came back with the booking). */
  readonly instantOffer: number;
  /** Any other booking: a link the rep sent, the scheduling page found some other way. */
  readonly repOutreach: number;
}

export interface BookingsReport extends BookingCounts {
  /** Leads that earned the instant offer (form leads, SQL, owner with a scheduling page). */
  readonly offered: number;
  /** Offered leads that booked from the offer. */
  readonly offerBookingRate: number | null;
  /** Cancelled bookings (either kind). */
  readonly canceled: number;
  /** Per owning rep. */
  readonly byRep: ReadonlyArray<BookingCounts & { readonly repId: string; readonly offered: number }>;
}

/**
 * Bookings from the instant offer against bookings from rep outreach: every `meeting_booked`
 * activity counts once (a reschedule is a new booking), by its `instantOffer` mark; offers are
 * counted with the same rule the thank-you page applies ({@link earnsBookingOffer}).
 */
export function bookingsReport(
  leads: readonly Lead[],
  history: ReadonlyMap<string, LeadEmailHistory>,
  config: Pick<ClientConfig, 'reps'>,
): BookingsReport {
  const perRep = new Map<string, { offered: number; instantOffer: number; repOutreach: number }>();
  const rep = (id: string) => {
    let entry = perRep.get(id);
    if (!entry) {
      entry = { offered: 0, instantOffer: 0, repOutreach: 0 };
      perRep.set(id, entry);
    }
    return entry;
  };
  let offered = 0;
  let instantOffer = 0;
  let repOutreach = 0;
  let canceled = 0;
  let offeredAndBooked = 0;
  for (const lead of leads) {
    const owner = lead.owner ?? 'unassigned';
    const earned = earnsBookingOffer(lead, config);
    if (earned) {
      offered++;
      rep(owner).offered++;
    }
    let fromOffer = false;
    for (const a of history.get(lead.id)?.activities ?? []) {
      if (a.type === 'note' && a.data.kind === 'meeting_canceled') canceled++;
      if (a.type !== 'meeting_booked') continue;
      if (a.data.instantOffer === true) {
        instantOffer++;
        rep(owner).instantOffer++;
        fromOffer = true;
      } else {
        repOutreach++;
        rep(owner).repOutreach++;
      }
    }
    if (earned && fromOffer) offeredAndBooked++;
  }
  return {
    offered,
    instantOffer,
    repOutreach,
    offerBookingRate: rate(offeredAndBooked, offered),
    canceled,
    byRep: [...perRep]
      .map(([repId, counts]) => ({ repId, ...counts }))
      .sort(
        (a, b) =>
          b.instantOffer + b.repOutreach - (a.instantOffer + a.repOutreach) || a.repId.localeCompare(b.repId),
      ),
  };
}
