// jobactions.js: Cancel and Resume of a job, from a card or a job's page.

import { api, session, ApiError } from './api.js';
import { toast, errorText } from './ui.js';
import * as live from './live.js';

// No confirm: a cancel must be quick to land, and it only stops what has not run yet; a
// resume only runs again what a failure left undone. action: 'cancel' | 'resume'.
export async function jobAction(action, id, btn) {
  const resume = action === 'resume';
  if (btn) btn.disabled = true;
  try {
    live.update(await api('POST', `/api/jobs/${id}/${action}`), resume);
  } catch (e) {
    if (e instanceof ApiError && e.status === 409) {
      toast(resume ? 'The job is no longer failed.' : 'The job had already finished.', 'info');
      live.refresh([id], resume);
    } else if (!(e instanceof ApiError && e.status === 401)) {
      toast(`Cannot ${action}: ${errorText(e)}`, 'error');
    }
  } finally {
    if (btn) btn.disabled = false;
  }
}

export const cancelJob = (id, btn) => jobAction('cancel', id, btn);

// Admins cancel any job; everyone else the jobs they started.
export const mayCancel = (job) => session.isAdmin || job.createdBy === session.user?.id;
