// The grove dashboard: log in with an API key, then trees, tasks, approvals, schedules, agent
// runs and workers — all read through the public API with that key.
import { render, type JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { clearKey, getKey, methods, resetMethods, setKey, setUnauthorizedHandler } from "./api";
import { Link, match, navigate, useRoute } from "./router";
import { ErrorNote } from "./ui";
import { TreesPage } from "./pages/trees";
import { TreePage } from "./pages/tree";
import { TaskPage } from "./pages/task";
import { ApprovalsPage } from "./pages/approvals";
import { SchedulePage, SchedulesPage } from "./pages/schedules";
import { AgentsPage } from "./pages/agents";
import { WorkersPage } from "./pages/workers";
import "./styles.css";

function Login({ next }: { next: string }): JSX.Element {
  const [key, setKeyText] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const k = key.trim();
      await methods(k); // the server checks the key; nothing else is sent
      setKey(k);
      resetMethods();
      navigate(next.startsWith("/") && next !== "/login" ? next : "/trees", { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form onSubmit={submit} class="card" aria-labelledby="login-title">
        <h1 id="login-title">grove</h1>
        <p class="muted">Log in with an API key (<code>grove keys create --scope … --json</code>). It is kept in this tab only.</p>
        <label for="key">API key</label>
        <input id="key" name="key" type="password" autoComplete="off" spellcheck={false} required value={key} onInput={(e) => setKeyText((e.target as HTMLInputElement).value)} />
        <button type="submit" disabled={busy || !key.trim()}>
          Log in
        </button>
        <ErrorNote error={error} />
      </form>
    </main>
  );
}

const NAV: [string, string][] = [
  ["/trees", "Trees"],
  ["/approvals", "Approvals"],
  ["/schedules", "Schedules"],
  ["/agents", "Agent runs"],
  ["/workers", "Workers"],
];

function Page({ path }: { path: string }): JSX.Element {
  let m: Record<string, string> | null;
  if ((m = match("/trees/:id", path))) return <TreePage id={m.id!} />;
  if ((m = match("/tasks/:id", path))) return <TaskPage id={m.id!} />;
  if ((m = match("/schedules/:name", path))) return <SchedulePage name={m.name!} />;
  if (path === "/approvals") return <ApprovalsPage />;
  if (path === "/schedules") return <SchedulesPage />;
  if (path === "/agents") return <AgentsPage />;
  if (path === "/workers") return <WorkersPage />;
  return <TreesPage />;
}

function App(): JSX.Element {
  const route = useRoute();
  // the key in sessionStorage is the login state; every navigation re-reads it
  const authed = !!getKey();
  useEffect(() => {
    setUnauthorizedHandler(() => {
      clearKey();
      resetMethods();
      navigate(`/login?next=${encodeURIComponent(location.pathname)}`, { replace: true });
    });
  }, []);
  useEffect(() => {
    if (!authed && route.path !== "/login") navigate(`/login?next=${encodeURIComponent(route.path)}`, { replace: true });
    if (authed && route.path === "/") navigate("/trees", { replace: true });
  }, [authed, route.path]);

  if (!authed || route.path === "/login") return <Login next={route.query.get("next") ?? "/trees"} />;
  const section = "/" + (route.path.split("/")[1] ?? "");
  const active = section === "/tasks" ? "/trees" : section;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href="/trees" class="brand">
          grove
        </Link>
        <nav aria-label="Sections">
          {NAV.map(([href, label]) => (
            <Link key={href} href={href} aria-current={active === href ? "page" : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <button
          type="button"
          class="quiet"
          onClick={() => {
            clearKey();
            resetMethods();
            navigate("/login", { replace: true });
          }}
        >
          Log out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page path={route.path} />
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
