/**
 * Links from chat to Steward's pages. Each chat surface says how a page path becomes a URL
 * there: relative in the local console, absolute from `STEWARD_PUBLIC_URL` in Slack, and
 * none in Slack without it (a link to localhost would lead nowhere for the rest of the team).
 */
import type { Button } from '@slack/types';
import { plain } from './blocks.ts';
import { LIMITS } from './limits.ts';

/** A page path (`/runs/12`) as a URL on one chat surface; undefined when it cannot be linked. */
export type PageLinks = (path: string) => string | undefined;

/** What a [Details] link sends when clicked: Slack tells the app, which only acknowledges it. */
export const DETAILS_LINK_ACTION = 'page.details';

export const runPath = (n: number) => `/runs/${n}`;
export const modelPath = (pipeline: string) => `/models/${encodeURIComponent(pipeline)}`;

/** The links of a surface: relative for the console, absolute under `publicUrl` for Slack. */
export function pageLinks(surface: 'console' | 'slack', publicUrl: string | undefined): PageLinks {
  if (surface === 'console') return (path) => path;
  return publicUrl ? (path) => new URL(path, publicUrl).href : () => undefined;
}

/** [Details], opening `url` (a run or model page) in the browser. */
export function detailsButton(url: string): Button {
  return { type: 'button', text: plain('Details', LIMITS.buttonText), action_id: DETAILS_LINK_ACTION, url };
}
