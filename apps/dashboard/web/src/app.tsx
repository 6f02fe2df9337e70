import { useEffect, useState } from 'react';
import { api, type Session, setSession, whenUnauthorized } from './api';
import { Badge } from './components/ui';
import { AccountPage } from './pages/account';
import { AuditPage } from './pages/audit';
import { BurstNoticesPage } from './pages/burst-notices';
import { FlagsPage } from './pages/flags';
import { LoginPage } from './pages/login';
import { OverviewPage } from './pages/overview';
import { PlansPage } from './pages/plans';
import { useRoute } from './router';

const NAV = [
  { path: 'overview', label: 'Overview', icon: '◎' },
  { path: 'flags', label: 'Flagged accounts', icon: '⚑' },
  { path: 'bursts', label: 'Burst notices', icon: '⇡' },
  { path: 'plans', label: 'Plans & limits', icon: '▤' },
  { path: 'audit', label: 'Audit log', icon: '☰' },
];

export function App() {
  const [session, setState] = useState<Session | null | undefined>(undefined);
  const route = useRoute();

  const update = (next: Session | null) => {
    setSession(next);
    setState(next);
  };

  useEffect(() => {
    whenUnauthorized(() => update(null));
    api
      .get<Session>('/api/auth/session')
      .then(update)
      .catch(() => update(null));
  }, []);

  if (session === undefined) return <div className="boot">Loading…</div>;
  if (session === null) return <LoginPage onSignedIn={update} />;

  const [page, id] = route;
  const logout = async () => {
    await api.post('/api/auth/logout').catch(() => undefined);
    update(null);
  };

  return (
    <div className="shell">
      <aside className="sidebar">
        <div className="brand">
          <span className="brand-mark">UG</span>
          <div>
            <div className="brand-name">UsageGuard</div>
            <div className="brand-sub">Operations</div>
          </div>
        </div>
        <nav>
          {NAV.map((item) => (
            <a
              key={item.path}
              href={`#/${item.path}`}
              className={page === item.path || (page === 'accounts' && item.path === 'flags') ? 'active' : ''}
            >
              <span className="nav-icon">{item.icon}</span>
              {item.label}
            </a>
          ))}
        </nav>
        <div className="sidebar-footer">
          <div className="who">
            <div className="who-name">{session.user.name || session.user.email}</div>
            <div className="who-mail">{session.user.email}</div>
            <Badge value={session.user.role} />
          </div>
          <button className="btn btn-ghost" onClick={() => void logout()}>
            Sign out
          </button>
        </div>
      </aside>
      <main className="content">
        {page === 'overview' && <OverviewPage />}
        {page === 'flags' && <FlagsPage />}
        {page === 'accounts' && id && <AccountPage id={id} user={session.user} />}
        {page === 'bursts' && <BurstNoticesPage user={session.user} />}
        {page === 'plans' && <PlansPage user={session.user} />}
        {page === 'audit' && <AuditPage />}
      </main>
    </div>
  );
}
