import { useState } from 'react';
import { api, canOperate, type User } from '../api';
import { ActionDialog, Badge, Card, Empty, ErrorNote, useResource } from '../components/ui';
import { ago, dateTime, fmt } from '../format';

interface Notice {
  id: string;
  startsAt: string;
  endsAt: string;
  timezone: string;
  expectedPerMinute: number | null;
  expectedPerHour: number | null;
  endpoints: string[];
  context: string;
  status: string;
  late: boolean;
  createdAt: string;
  reviewNote: string | null;
  account: { id: string; name: string; externalId: string | null; plan: { name: string } };
  history: { notices: Record<string, number>; flags90d: number; restrictions90d: number };
}

export function BurstNoticesPage({ user }: { user: User }) {
  const [status, setStatus] = useState('PENDING');
  const [deciding, setDeciding] = useState<{ notice: Notice; decision: 'approve' | 'reject' } | null>(null);
  const notices = useResource(() => api.get<Notice[]>(`/api/burst-notices?status=${status}`), [status]);
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Burst notices</h1>
          <p className="muted">
            Planned spikes announced by customers. Approved notices raise the account’s allowance for the window.
          </p>
        </div>
        <div className="segmented">
          {['PENDING', 'APPROVED', 'REJECTED'].map((s) => (
            <button key={s} className={status === s ? 'on' : ''} onClick={() => setStatus(s)}>
              {s.toLowerCase()}
            </button>
          ))}
        </div>
      </header>
      <ErrorNote error={notices.error} />
      {notices.data?.length === 0 && (
        <Card>
          <Empty>No {status.toLowerCase()} burst notices.</Empty>
        </Card>
      )}
      <div className="notice-list">
        {notices.data?.map((n) => (
          <Card
            key={n.id}
            title={
              <span>
                <a href={`#/accounts/${n.account.id}`}>{n.account.name}</a>{' '}
                <span className="muted small">{n.account.plan.name}</span>
              </span>
            }
            actions={
              canOperate(user) && n.status === 'PENDING' ? (
                <>
                  <button className="btn btn-sm" onClick={() => setDeciding({ notice: n, decision: 'reject' })}>
                    Reject
                  </button>
                  <button
                    className="btn btn-sm btn-primary"
                    onClick={() => setDeciding({ notice: n, decision: 'approve' })}
                  >
                    Approve
                  </button>
                </>
              ) : (
                <Badge value={n.status} />
              )
            }
          >
            <div className="notice">
              <div>
                <div className="notice-window">
                  {dateTime(n.startsAt)} → {dateTime(n.endsAt)}{' '}
                  <span className="muted small">
                    ({n.timezone}, starts {ago(n.startsAt)})
                  </span>
                </div>
                <div>
                  Expected {n.expectedPerMinute ? <strong>{fmt(n.expectedPerMinute)}/min</strong> : null}
                  {n.expectedPerHour ? <strong> {fmt(n.expectedPerHour)}/h</strong> : null}
                  {n.endpoints.length > 0 && <span className="muted"> on {n.endpoints.join(', ')}</span>}
                </div>
                {n.context && <p className="quote">{n.context}</p>}
                {n.late && <Badge value="submitted late (< 48 h ahead)" tone="orange" />}
                {n.reviewNote && <p className="muted small">Review note: {n.reviewNote}</p>}
              </div>
              <div className="history">
                <div className="history-title">Account history</div>
                <div>
                  Notices:{' '}
                  {Object.entries(n.history.notices)
                    .map(([s, c]) => `${c} ${s.toLowerCase()}`)
                    .join(', ')}
                </div>
                <div>Flags, 90 days: {n.history.flags90d}</div>
                <div>Restrictions, 90 days: {n.history.restrictions90d}</div>
              </div>
            </div>
          </Card>
        ))}
      </div>
      {deciding && (
        <ActionDialog
          title={deciding.decision === 'approve' ? 'Approve burst notice' : 'Reject burst notice'}
          description={`${deciding.notice.account.name}, ${dateTime(deciding.notice.startsAt)} → ${dateTime(deciding.notice.endsAt)}`}
          fields={[{ name: 'note', label: 'Note (audit log)', type: 'textarea' }]}
          confirm={deciding.decision === 'approve' ? 'Approve' : 'Reject'}
          tone={deciding.decision === 'approve' ? 'primary' : 'danger'}
          onSubmit={async (v) => {
            await api.post(`/api/burst-notices/${deciding.notice.id}/review`, {
              decision: deciding.decision,
              note: v.note,
            });
            await notices.reload();
          }}
          onClose={() => setDeciding(null)}
        />
      )}
    </div>
  );
}
