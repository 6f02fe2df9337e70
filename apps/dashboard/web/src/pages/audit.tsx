import { Fragment, useState } from 'react';
import { api } from '../api';
import { Card, Empty, ErrorNote, useResource } from '../components/ui';

interface AuditEvent {
  id: string;
  at: string;
  actorType: string;
  actorId: string | null;
  actorEmail: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  accountId: string | null;
  before: unknown;
  after: unknown;
  reason: string;
  requestId: string | null;
}

/** The person or system behind an event; a failed sign-in has no actor yet, only the email it tried. */
function who(e: AuditEvent): string {
  if (e.actorEmail) return e.actorEmail;
  if (e.actorId) return e.actorType === 'SYSTEM' ? `system (${e.actorId})` : e.actorId;
  const tried = (e.after as { email?: string } | null)?.email;
  return tried ? `anonymous (as ${tried})` : e.actorType.toLowerCase().replace('_', ' ');
}

export function AuditPage() {
  const [action, setAction] = useState('');
  const [targetType, setTargetType] = useState('');
  const [accountId, setAccountId] = useState('');
  const [from, setFrom] = useState('');
  const [pages, setPages] = useState<string[]>([]);
  const [open, setOpen] = useState<string | null>(null);
  const query = new URLSearchParams({ limit: '50' });
  if (action) query.set('action', action);
  if (targetType) query.set('targetType', targetType);
  if (/^[0-9a-f-]{36}$/i.test(accountId)) query.set('accountId', accountId);
  if (from) query.set('from', new Date(`${from}T00:00:00Z`).toISOString());
  const cursor = pages[pages.length - 1];
  if (cursor) query.set('before', cursor);
  const qs = query.toString();
  const events = useResource(() => api.get<{ events: AuditEvent[]; next: string | null }>(`/api/audit?${qs}`), [qs]);
  const reset = () => setPages([]);
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Audit log</h1>
          <p className="muted">
            Every action by people and by the platform: who, what, on what, before and after, why.
          </p>
        </div>
      </header>
      <Card>
        <div className="filters">
          <select value={action} onChange={(e) => (setAction(e.target.value), reset())} aria-label="action">
            <option value="">Any action</option>
            <option value="auth.*">Sign-ins and sign-outs</option>
            <option value="dashboard.*">Dashboard decisions (flags, restrictions, emails)</option>
            <option value="restriction.*">Restriction changes</option>
            <option value="flag.*">Flag changes</option>
            <option value="burst-notice.*">Burst notices</option>
            <option value="plan.*">Plans</option>
            <option value="limit-rule.*">Limit rules</option>
            <option value="notification.*">Emails (held, released)</option>
          </select>
          <select value={targetType} onChange={(e) => (setTargetType(e.target.value), reset())} aria-label="target">
            <option value="">Any target</option>
            {['account', 'flag', 'restriction', 'notification', 'burst_notice', 'plan', 'limit_rule', 'ops_user'].map(
              (t) => (
                <option key={t} value={t}>
                  {t.replace('_', ' ')}
                </option>
              ),
            )}
          </select>
          <input
            placeholder="Account id"
            value={accountId}
            onChange={(e) => (setAccountId(e.target.value.trim()), reset())}
          />
          <label className="inline-field">
            since <input type="date" value={from} onChange={(e) => (setFrom(e.target.value), reset())} />
          </label>
        </div>
        <ErrorNote error={events.error} />
        {events.data?.events.length === 0 ? (
          <Empty>No events match.</Empty>
        ) : (
          <table className="table table-hover">
            <thead>
              <tr>
                <th>When (UTC)</th>
                <th>Who</th>
                <th>Action</th>
                <th>Target</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {events.data?.events.map((e) => (
                <Fragment key={e.id}>
                  <tr className="clickable" onClick={() => setOpen(open === e.id ? null : e.id)}>
                    <td className="nowrap">{e.at.replace('T', ' ').slice(0, 19)}</td>
                    <td>{who(e)}</td>
                    <td className="mono">{e.action}</td>
                    <td>
                      {e.targetType.replace('_', ' ')}{' '}
                      {e.accountId ? (
                        <a href={`#/accounts/${e.accountId}`} onClick={(ev) => ev.stopPropagation()}>
                          {e.targetId?.slice(0, 8)}
                        </a>
                      ) : (
                        <span className="mono small">{e.targetId?.slice(0, 8)}</span>
                      )}
                    </td>
                    <td>{e.reason}</td>
                  </tr>
                  {open === e.id && (
                    <tr className="detail-row">
                      <td colSpan={5}>
                        <div className="grid-2">
                          <div>
                            <div className="history-title">Before</div>
                            <pre>{JSON.stringify(e.before, null, 2) ?? '—'}</pre>
                          </div>
                          <div>
                            <div className="history-title">After</div>
                            <pre>{JSON.stringify(e.after, null, 2) ?? '—'}</pre>
                          </div>
                        </div>
                        <div className="muted small">request {e.requestId ?? '—'}</div>
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        )}
        <div className="pager">
          <button className="btn btn-sm" disabled={pages.length === 0} onClick={() => setPages(pages.slice(0, -1))}>
            ← Newer
          </button>
          <button
            className="btn btn-sm"
            disabled={!events.data?.next}
            onClick={() => events.data?.next && setPages([...pages, events.data.next])}
          >
            Older →
          </button>
        </div>
      </Card>
    </div>
  );
}
