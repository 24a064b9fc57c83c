import * as z from 'zod';
import { JoinWaitlistBody, WaitlistEntryView, WaitlistStatus } from '../../domain/waitlist';
import { defineRoute } from '../route';
import { IdParams, PageQuery, pageOf } from './shared';

/** The waiting-list routes (functions/waitlist.ts). */
export const waitlistRoutes = {
  joinWaitlist: defineRoute({
    operationId: 'joinWaitlist',
    method: 'post',
    path: '/events/{id}/waitlist',
    summary: 'Wait in line for tickets of a sold-out event',
    description:
      'For users (the admin key has no user account and does not queue: 403). The entry is WAITING; when tickets come back (a hold expires, a booking is cancelled, the total is raised) the earliest WAITING entry whose `quantity` fits gets an offer: a PENDING booking for its user, paid like any booking. ' +
      "404 `event-not-found`; 409 `tickets-available` when that many tickets are on sale now (book them instead), `already-waiting` when the user has a WAITING or OFFERED entry for the event, `event-started`, `per-user-limit`; 422 for a quantity above the event's `max_per_booking`.",
    tag: 'Waiting list',
    access: 'user',
    resource: 'event',
    params: IdParams,
    body: JoinWaitlistBody,
    success: { status: 201, description: 'The entry, WAITING, with its position', schema: WaitlistEntryView, location: true },
    problems: [404, 409, 503],
  }),
  listWaitlist: defineRoute({
    operationId: 'listWaitlist',
    method: 'get',
    path: '/waitlist',
    summary: "The caller's waiting-list entries, newest first",
    description: "A user sees their own entries, the admin everyone's; either may filter by `event_id` and `status`.",
    tag: 'Waiting list',
    access: 'user-or-admin',
    query: PageQuery.extend({
      event_id: z.string().min(1).max(128).optional().meta({ description: 'Only entries for this event' }),
      status: WaitlistStatus.optional().meta({ description: 'Only entries in this status' }),
    }),
    success: { status: 200, description: 'A page of entries', schema: pageOf(WaitlistEntryView, 'WaitlistEntryPage') },
    problems: [503],
  }),
  getWaitlistEntry: defineRoute({
    operationId: 'getWaitlistEntry',
    method: 'get',
    path: '/waitlist/{id}',
    summary: 'One waiting-list entry, with its position while WAITING',
    description: 'For its owner or the admin; anyone else gets 404 `waitlist-entry-not-found`, as for an id that names no entry.',
    tag: 'Waiting list',
    access: 'user-or-admin',
    resource: 'waitlist-entry',
    params: IdParams,
    success: { status: 200, description: 'The entry', schema: WaitlistEntryView },
    problems: [404, 503],
  }),
  leaveWaitlist: defineRoute({
    operationId: 'leaveWaitlist',
    method: 'delete',
    path: '/waitlist/{id}',
    summary: 'Leave the line: the entry becomes LEFT',
    description:
      "For its owner or the admin (anyone else's entry is a 404). An OFFERED entry's booking is cancelled with it, and its tickets go to the next in line. 409 `waitlist-entry-ended` for an entry ACCEPTED, EXPIRED or LEFT.",
    tag: 'Waiting list',
    access: 'user-or-admin',
    resource: 'waitlist-entry',
    params: IdParams,
    success: { status: 204, description: 'The entry has left the line' },
    problems: [404, 409, 503],
  }),
};
