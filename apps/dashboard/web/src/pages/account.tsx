import { useState } from 'react';
import { api, canOperate, type User } from '../api';
import { UsageChart, type UsageSeries } from '../components/usage-chart';
import { ActionDialog, Badge, Card, type DialogField, Empty, ErrorNote, Evidence, useResource } from '../components/ui';
import { ago, dateTime, fmt, label } from '../format';

interface Flag {
  id: string;
  kind: string;
  severity: string;
  status: string;
  score: number;
  summary: string;
  evidence: unknown;
  firstSeenAt: string;
  lastSeenAt: string;
  reviewNote: string | null;
  reviewedBy: string | null;
  /** The restriction in force this flag joined (same incident: no restriction or email of its own). */
  restrictionId: string | null;
}
interface Restriction {
  id: string;
  scope: string;
  scopeValue: string | null;
  mode: string;
  throttleFactor: number | null;
  statusCode: number;
  reasonCode: string;
  reason: string;
  level: number;
  status: string;
  startsAt: string;
  expiresAt: string;
  createdByType: string;
  liftedAt: string | null;
}
interface Account {
  id: string;
  name: string;
  externalId: string | null;
  status: string;
  allowlisted: boolean;
  timezone: string;
  createdAt: string;
  plan: { id: string; key: string; name: string; priorPerMinute: number };
  contacts: { email: string; name: string }[];
  tokens: { id: string; name: string; prefix: string; revokedAt: string | null; lastUsedAt: string | null }[];
  flags: Flag[];
  restrictions: Restriction[];
  notifications: {
    id: string;
    kind: string;
    subject: string;
    recipients: string[];
    status: string;
    createdAt: string;
    sentAt: string | null;
    lastError: string | null;
  }[];
  burstNotices: {
    id: string;
    startsAt: string;
    endsAt: string;
    status: string;
    expectedPerMinute: number | null;
    expectedPerHour: number | null;
    context: string;
    late: boolean;
  }[];
}
interface TopEntry {
  key: string;
  label?: string;
  requests: number;
  limited: number;
  errors: number;
}
interface Top {
  routes: TopEntry[];
  tokens: TopEntry[];
  ips: TopEntry[];
}

const RANGES = [
  { key: '6h', label: '6 hours' },
  { key: '48h', label: '48 hours' },
  { key: '7d', label: '7 days' },
  { key: '28d', label: '4 weeks' },
];

type Dialog = {
  title: string;
  description?: string;
  fields: DialogField[];
  confirm: string;
  tone?: 'danger' | 'primary';
  submit: (v: Record<string, string>) => Promise<unknown>;
};

const reasonField: DialogField = {
  name: 'reason',
  label: 'Reason (kept in the audit log)',
  type: 'textarea',
  required: true,
};

function TopTable({ title, rows }: { title: string; rows: TopEntry[] }) {
  const max = Math.max(1, ...rows.map((r) => r.requests));
  return (
    <Card title={title} className="top-card">
      {rows.length === 0 ? (
        <Empty>No requests in this window.</Empty>
      ) : (
        <table className="table table-compact">
          <tbody>
            {rows.map((row) => (
              <tr key={row.key}>
                <td className="top-key" title={row.key}>
                  <div className="top-label">{row.label ?? row.key}</div>
                  <div className="bar">
                    <span style={{ width: `${(row.requests / max) * 100}%` }} />
                  </div>
                </td>
                <td className="num">{fmt(row.requests)}</td>
                <td className="num muted small">{row.limited > 0 ? `${fmt(row.limited)} limited` : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

export function AccountPage({ id, user }: { id: string; user: User }) {
  const [range, setRange] = useState('48h');
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [notice, setNotice] = useState<string>();
  const account = useResource(() => api.get<Account>(`/api/accounts/${id}`), [id]);
  const usage = useResource(() => api.get<UsageSeries>(`/api/accounts/${id}/usage?range=${range}`), [id, range]);
  const top = useResource(() => api.get<Top>(`/api/accounts/${id}/top?range=24h`), [id]);
  const operator = canOperate(user);

  const act = (d: Dialog) =>
    setDialog({
      ...d,
      submit: async (values) => {
        await d.submit(values);
        setNotice(`${d.confirm}: done.`);
        await Promise.all([account.reload(), usage.reload()]);
      },
    });

  const a = account.data;
  if (account.error)
    return (
      <div className="page">
        <ErrorNote error={account.error} />
      </div>
    );
  if (!a) return <div className="page muted">Loading…</div>;

  const active = a.restrictions.filter((r) => r.status === 'ACTIVE' || r.status === 'PENDING_APPROVAL');
  const openFlags = a.flags.filter((f) => f.status === 'OPEN');

  const reviewFlag = (flag: Flag, decision: 'approve' | 'dismiss') =>
    act({
      title: decision === 'approve' ? 'Approve flag and enforce' : 'Dismiss flag',
      description:
        decision === 'approve'
          ? 'The enforcer applies the next rung of the plan’s enforcement ladder and emails the customer.'
          : 'The flag is closed without action; the analyzer may raise it again if the behaviour continues.',
      fields: [reasonField],
      confirm: decision === 'approve' ? 'Approve' : 'Dismiss',
      tone: decision === 'approve' ? 'danger' : 'primary',
      submit: (v) => api.post(`/api/flags/${flag.id}/review`, { decision, reason: v.reason }),
    });

  const lift = (r: Restriction) =>
    act({
      title: 'Lift restriction',
      description: `Requests from ${a.name} pass the edge again as soon as the enforcer removes the restriction.`,
      fields: [reasonField],
      confirm: 'Lift restriction',
      submit: (v) => api.post(`/api/restrictions/${r.id}/lift`, { reason: v.reason }),
    });

  const resend = (n: Account['notifications'][number]) =>
    act({
      title: 'Resend held email',
      description:
        `“${n.subject}” was held: ${n.lastError ?? 'not confirmed'}. Check the mail log for it first: if it was not ` +
        `delivered, it goes out again to the account’s current contacts (${a.contacts.map((c) => c.email).join(', ') || 'none yet'}), with the same Message-ID.`,
      fields: [reasonField],
      confirm: 'Resend',
      submit: (v) => api.post(`/api/notifications/${n.id}/resend`, { reason: v.reason }),
    });

  const extend = (r: Restriction) => {
    const proposed = new Date(Math.max(Date.now(), new Date(r.expiresAt).getTime()) + 24 * 3600_000);
    act({
      title: 'Extend restriction',
      description: `Currently ends ${dateTime(r.expiresAt)}.`,
      fields: [
        {
          name: 'expiresAt',
          label: 'New end (UTC)',
          type: 'datetime-local',
          initial: proposed.toISOString().slice(0, 16),
          required: true,
        },
        reasonField,
      ],
      confirm: 'Extend',
      submit: (v) =>
        api.post(`/api/restrictions/${r.id}/extend`, {
          expiresAt: new Date(`${v.expiresAt}:00Z`).toISOString(),
          reason: v.reason,
        }),
    });
  };

  const apply = () =>
    act({
      title: 'Apply restriction',
      description: 'Goes through the enforcer: written to the edge within a second, customer emailed.',
      fields: [
        {
          name: 'mode',
          label: 'Mode',
          type: 'select',
          initial: 'throttle',
          options: [
            { value: 'throttle', label: 'Throttle (share of plan limits)' },
            { value: 'block', label: 'Block' },
            { value: 'notify', label: 'Notify only' },
          ],
        },
        {
          name: 'throttleFactor',
          label: 'Throttle to (share of limits, 0.01–0.99)',
          type: 'number',
          initial: '0.5',
          min: 0.01,
          max: 0.99,
          step: 0.01,
        },
        {
          name: 'durationHours',
          label: 'Duration (hours)',
          type: 'number',
          initial: '24',
          min: 1,
          max: 720,
          step: 1,
          required: true,
        },
        {
          name: 'statusCode',
          label: 'Status code',
          type: 'select',
          initial: '429',
          options: [
            { value: '429', label: '429 Too Many Requests' },
            { value: '503', label: '503 Service Unavailable' },
          ],
        },
        {
          name: 'reasonCode',
          label: 'Reason code (shown to the customer)',
          initial: openFlags[0] ? openFlags[0].kind.toLowerCase() : 'ops_decision',
          required: true,
        },
        reasonField,
      ],
      confirm: 'Apply restriction',
      tone: 'danger',
      submit: (v) =>
        api.post(`/api/accounts/${a.id}/restrictions`, {
          mode: v.mode,
          scope: 'account',
          ...(v.mode === 'throttle' ? { throttleFactor: Number(v.throttleFactor) } : {}),
          statusCode: Number(v.statusCode),
          reasonCode: v.reasonCode,
          durationSeconds: Math.round(Number(v.durationHours) * 3600),
          ...(openFlags[0] ? { flagId: openFlags[0].id } : {}),
          reason: v.reason,
        }),
    });

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <div className="crumbs">
            <a href="#/flags">Flagged accounts</a> / account
          </div>
          <h1>
            {a.name} {a.allowlisted && <Badge value="allowlisted" tone="blue" />}{' '}
            {a.status !== 'ACTIVE' && <Badge value={a.status} />}
          </h1>
          <p className="muted">
            {a.externalId ?? a.id} · plan <strong>{a.plan.name}</strong> · customer since {a.createdAt.slice(0, 10)} ·
            contacts {a.contacts.map((c) => c.email).join(', ') || 'none'}
          </p>
        </div>
        {operator && (
          <div className="header-actions">
            <button className="btn btn-danger" onClick={apply}>
              Apply restriction
            </button>
          </div>
        )}
      </header>
      {notice && (
        <div className="success-note" role="status">
          {notice}
        </div>
      )}

      {active.map((r) => (
        <div key={r.id} className="banner banner-restricted" data-testid="active-restriction">
          <div>
            <strong>
              {r.mode === 'THROTTLE'
                ? `Throttled to ${Math.round((r.throttleFactor ?? 0) * 100)}% of plan limits`
                : r.mode === 'BLOCK'
                  ? 'Blocked'
                  : 'Notified'}
            </strong>{' '}
            ({label(r.scope)}
            {r.scopeValue ? ` ${r.scopeValue}` : ''}) · {r.reasonCode} · ends {dateTime(r.expiresAt)} (
            {ago(r.expiresAt)}) · <Badge value={r.status} />
            <div className="muted small">{r.reason}</div>
          </div>
          {operator && (
            <div className="banner-actions">
              <button className="btn" onClick={() => extend(r)}>
                Extend
              </button>
              <button className="btn btn-primary" onClick={() => lift(r)}>
                Lift restriction
              </button>
            </div>
          )}
        </div>
      ))}

      <Card
        title="Usage against baseline"
        actions={
          <div className="segmented">
            {RANGES.map((r) => (
              <button key={r.key} className={range === r.key ? 'on' : ''} onClick={() => setRange(r.key)}>
                {r.label}
              </button>
            ))}
          </div>
        }
      >
        <ErrorNote error={usage.error} />
        {usage.data && <UsageChart series={usage.data} />}
        {usage.data && !usage.data.baseline && <p className="muted small chart-note">{usage.data.baselineNote}</p>}
      </Card>

      <div className="grid-3">
        <TopTable title="Top routes · 24 h" rows={top.data?.routes ?? []} />
        <TopTable title="Top tokens · 24 h" rows={top.data?.tokens ?? []} />
        <TopTable title="Top client IPs · 24 h" rows={top.data?.ips ?? []} />
      </div>

      <Card title={`Flags (${openFlags.length} open)`}>
        {a.flags.length === 0 ? (
          <Empty>No flags for this account.</Empty>
        ) : (
          <div className="flag-list">
            {a.flags.map((flag) => (
              <details key={flag.id} className="flag" open={flag.status === 'OPEN'}>
                <summary>
                  <Badge value={flag.severity} /> <strong>{label(flag.kind)}</strong> <Badge value={flag.status} />
                  <span className="muted small">
                    {' '}
                    score {flag.score.toFixed(1)} · first seen {ago(flag.firstSeenAt)} · last {ago(flag.lastSeenAt)}
                  </span>
                  {flag.status === 'OPEN' && flag.reviewedBy && <Badge value="APPROVED" />}
                  {operator && flag.status === 'OPEN' && (
                    <span className="flag-actions">
                      {!flag.reviewedBy && (
                        <button
                          className="btn btn-sm btn-danger"
                          onClick={(e) => (e.preventDefault(), reviewFlag(flag, 'approve'))}
                        >
                          Approve
                        </button>
                      )}
                      <button className="btn btn-sm" onClick={(e) => (e.preventDefault(), reviewFlag(flag, 'dismiss'))}>
                        Dismiss
                      </button>
                    </span>
                  )}
                </summary>
                {flag.summary && <p>{flag.summary}</p>}
                <JoinedRestriction flag={flag} restrictions={a.restrictions} />
                <Evidence value={flag.evidence} />
                {flag.reviewNote && <p className="muted small">Review note: {flag.reviewNote}</p>}
              </details>
            ))}
          </div>
        )}
      </Card>

      <Card title="Restriction history">
        {a.restrictions.length === 0 ? (
          <Empty>Never restricted.</Empty>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th>Status</th>
                <th>Mode</th>
                <th>Scope</th>
                <th>Reason</th>
                <th>Level</th>
                <th>From</th>
                <th>Until</th>
                <th>By</th>
              </tr>
            </thead>
            <tbody>
              {a.restrictions.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Badge value={r.status} />
                  </td>
                  <td>
                    <Badge value={r.mode} /> {r.throttleFactor ? `${Math.round(r.throttleFactor * 100)}%` : ''}
                  </td>
                  <td>
                    {label(r.scope)} {r.scopeValue}
                  </td>
                  <td>
                    {r.reasonCode}
                    <div className="muted small">{r.reason}</div>
                    <JoinedFlags count={a.flags.filter((f) => f.restrictionId === r.id).length} />
                  </td>
                  <td className="num">{r.level}</td>
                  <td>{dateTime(r.startsAt)}</td>
                  <td>{r.liftedAt ? `lifted ${dateTime(r.liftedAt)}` : dateTime(r.expiresAt)}</td>
                  <td>{label(r.createdByType)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>

      <div className="grid-2">
        <Card title="Emails sent">
          {a.notifications.length === 0 ? (
            <Empty>No emails.</Empty>
          ) : (
            <table className="table table-compact">
              <tbody>
                {a.notifications.map((n) => (
                  <tr key={n.id}>
                    <td>
                      <Badge value={n.status} />
                    </td>
                    <td>
                      {n.subject}
                      <div className="muted small">
                        {label(n.kind)} · to {n.recipients.join(', ')}
                        {n.lastError ? ` · ${n.lastError}` : ''}
                      </div>
                    </td>
                    <td className="small">
                      {dateTime(n.sentAt ?? n.createdAt)}
                      {operator && n.status === 'FAILED' && (
                        <div>
                          <button className="btn btn-sm" data-testid="resend-email" onClick={() => resend(n)}>
                            Resend…
                          </button>
                        </div>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
        <Card title="Burst notices">
          {a.burstNotices.length === 0 ? (
            <Empty>No burst notices.</Empty>
          ) : (
            <table className="table table-compact">
              <tbody>
                {a.burstNotices.map((b) => (
                  <tr key={b.id}>
                    <td>
                      <Badge value={b.status} /> {b.late && <Badge value="late" tone="orange" />}
                    </td>
                    <td>
                      {dateTime(b.startsAt)} → {dateTime(b.endsAt)}
                      <div className="muted small">
                        {b.expectedPerMinute ? `${fmt(b.expectedPerMinute)}/min ` : ''}
                        {b.expectedPerHour ? `${fmt(b.expectedPerHour)}/h ` : ''}
                        {b.context}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
      </div>

      <Card title="API tokens">
        <table className="table table-compact">
          <tbody>
            {a.tokens.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td className="mono">{t.prefix}…</td>
                <td className="muted small">last used {ago(t.lastUsedAt)}</td>
                <td>{t.revokedAt ? <Badge value="revoked" tone="gray" /> : <Badge value="active" tone="green" />}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>

      {dialog && (
        <ActionDialog
          title={dialog.title}
          description={dialog.description}
          fields={dialog.fields}
          confirm={dialog.confirm}
          tone={dialog.tone}
          onSubmit={async (v) => void (await dialog.submit(v))}
          onClose={() => setDialog(null)}
        />
      )}
    </div>
  );
}

/**
 * A flag raised while its account was already restricted joins that restriction instead of getting its own; one
 * raised while another flag's proposal waits for approval joins the proposal.
 */
function JoinedRestriction({ flag, restrictions }: { flag: Flag; restrictions: Restriction[] }) {
  if (!flag.restrictionId) return null;
  const joined = restrictions.find((r) => r.id === flag.restrictionId);
  if (joined?.status === 'PENDING_APPROVAL') {
    return (
      <p className="muted small" data-testid="joined-restriction">
        Joined the proposed {label(joined.mode)} restriction awaiting approval: approving this flag approves it, and the
        customer gets one email.
      </p>
    );
  }
  return (
    <p className="muted small" data-testid="joined-restriction">
      Joined the {joined ? `${label(joined.mode)} restriction from ${dateTime(joined.startsAt)}` : 'restriction'}{' '}
      already in force: one incident, one email to the customer.
    </p>
  );
}

function JoinedFlags({ count }: { count: number }) {
  if (count === 0) return null;
  return (
    <div className="muted small">
      + {count} later {count === 1 ? 'flag' : 'flags'} joined
    </div>
  );
}
