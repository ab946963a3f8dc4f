import { lazy, Suspense } from 'react';
import { NavLink, Route, Routes } from 'react-router';
import { Button, Field, makeStyles, Select, Switch, Text, tokens } from '@fluentui/react-components';
import { can } from './auth/roles';
import { useSession } from './auth/session';
import { LIVE_INTERVALS, useLive } from './live';
import { NAV_ITEMS } from './nav';
import { ErrorBox, Loading } from './components/states';
import { Overview } from './views/Overview';
import { Jobs } from './views/Jobs';
import { JobDetail } from './views/JobDetail';
import { AttemptDetail } from './views/AttemptDetail';
import { Watches } from './views/Watches';
import { Grants } from './views/Grants';
import { Approvals } from './views/Approvals';
import { Notifications } from './views/Notifications';

// The audit view carries the chart library: loaded when first opened.
const Audit = lazy(() => import('./views/Audit'));

const useStyles = makeStyles({
  shell: {
    display: 'grid',
    gridTemplateColumns: '200px 1fr',
    gridTemplateRows: 'auto 1fr',
    minHeight: '100vh',
    minWidth: '1000px',
  },
  header: {
    gridColumn: '1 / span 2',
    display: 'flex',
    alignItems: 'center',
    gap: tokens.spacingHorizontalL,
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalL}`,
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
    backgroundColor: tokens.colorNeutralBackground2,
    flexWrap: 'wrap',
  },
  title: { marginRight: 'auto' },
  nav: {
    display: 'flex',
    flexDirection: 'column',
    gap: tokens.spacingVerticalXS,
    padding: tokens.spacingVerticalM,
    borderRight: `1px solid ${tokens.colorNeutralStroke2}`,
  },
  link: {
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}`,
    borderRadius: tokens.borderRadiusMedium,
    color: tokens.colorNeutralForeground1,
    textDecoration: 'none',
    ':hover': { backgroundColor: tokens.colorNeutralBackground1Hover },
    ':focus-visible': { outline: `2px solid ${tokens.colorStrokeFocus2}` },
  },
  active: { backgroundColor: tokens.colorNeutralBackground1Selected, fontWeight: tokens.fontWeightSemibold },
  main: { padding: tokens.spacingHorizontalXL, minWidth: 0 },
  inline: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalS },
});

function Header() {
  const s = useStyles();
  const session = useSession();
  const live = useLive();
  return (
    <header className={s.header}>
      <Text as="h1" size={500} weight="semibold" className={s.title}>
        Sync Job Guard
      </Text>
      <div className={s.inline}>
        <Field label="Refresh every" orientation="horizontal">
          <Select
            value={String(live.intervalSeconds)}
            onChange={(_, d) => live.setIntervalSeconds(Number(d.value))}
          >
            {LIVE_INTERVALS.map((i) => (
              <option key={i} value={i}>
                {i < 60 ? `${i} s` : `${i / 60} min`}
              </option>
            ))}
          </Select>
        </Field>
        <Switch
          label={live.paused ? 'Live updates paused' : 'Live updates'}
          checked={!live.paused}
          onChange={(_, d) => live.setPaused(!d.checked)}
        />
      </div>
      <div className={s.inline}>
        <Text>{session.name}</Text>
        {session.switcher && (
          <Field label="Role" orientation="horizontal">
            <Select
              value={session.switcher.current}
              onChange={(_, d) => session.switcher?.switchTo(d.value)}
              data-testid="role-switcher"
            >
              {session.switcher.options.map((o) => (
                <option key={o} value={o}>
                  {o}
                </option>
              ))}
            </Select>
          </Field>
        )}
        {session.signOut && (
          <Button appearance="subtle" onClick={session.signOut}>
            Sign out
          </Button>
        )}
      </div>
    </header>
  );
}

function Forbidden() {
  return <ErrorBox title="Not allowed" error={new Error('This view needs the JobControl.Admin role.')} />;
}

export function App() {
  const s = useStyles();
  const { roles } = useSession();
  const admin = can(roles, 'admin');
  return (
    <div className={s.shell}>
      <Header />
      <nav className={s.nav} aria-label="Console">
        {NAV_ITEMS.filter((i) => can(roles, i.needs)).map((i) => (
          <NavLink
            key={i.path}
            to={i.path}
            end={i.path === '/'}
            className={({ isActive }) => (isActive ? `${s.link} ${s.active}` : s.link)}
          >
            {i.label}
          </NavLink>
        ))}
      </nav>
      <main className={s.main}>
        {!can(roles, 'read') ? (
          <ErrorBox
            title="Not allowed"
            error={new Error('Your account has no JobControl.Read role: ask an administrator for access.')}
          />
        ) : (
          <Suspense fallback={<Loading />}>
            <Routes>
              <Route path="/" element={<Overview />} />
              <Route path="/jobs" element={<Jobs />} />
              <Route path="/jobs/:spId/:jobId" element={<JobDetail />} />
              <Route path="/attempts/:attemptId" element={<AttemptDetail />} />
              <Route path="/audit" element={<Audit />} />
              <Route path="/watches" element={<Watches />} />
              <Route path="/approvals" element={<Approvals />} />
              <Route path="/grants" element={admin ? <Grants /> : <Forbidden />} />
              <Route path="/notifications" element={admin ? <Notifications /> : <Forbidden />} />
              <Route path="*" element={<ErrorBox title="Not found" error={new Error('No such page.')} />} />
            </Routes>
          </Suspense>
        )}
      </main>
    </div>
  );
}
