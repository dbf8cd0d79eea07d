import { useEffect, useState } from "react";
import { useRpc } from "./api/hooks";
import { NodeProvider } from "./api/node";
import { isRpcError } from "./api/transport";
import { Layout } from "./Layout";
import { findRoute } from "./routes";
import { navigate, usePath } from "./router";
import { ErrorNote, Loading } from "./components/Status";
import FirstRun from "./screens/FirstRun";

export function App() {
  const path = usePath();
  // `mining` follows a restart after setup; a reconnect also re-reads it.
  const setup = useRpc("getsetup", [], { refreshOn: ["mining"] });
  const unconfigured = setup.data?.configured === false;
  // Once shown, first run stays until it has seen the node mine (the node says "configured"
  // as soon as it restarted, before its miner runs).
  const [firstRun, setFirstRun] = useState(false);
  useEffect(() => {
    if (unconfigured) setFirstRun(true);
  }, [unconfigured]);
  useEffect(() => {
    // While first run waits for the restarted node, look again every few seconds.
    if (!unconfigured) return;
    const id = setInterval(setup.refetch, 3000);
    return () => clearInterval(id);
  }, [unconfigured, setup.refetch]);


  // An older node without `getsetup` is configured by definition.
  const setupMissing = setup.error && isRpcError(setup.error) && setup.error.methodMissing;
  if (setup.loading) return <Loading label="Connecting to the node…" />;
  if (setup.error && !setupMissing && !setup.data) {
    return (
      <div className="screen narrow">
        <ErrorNote error={setup.error} what="The node" />
        <button type="button" className="btn" onClick={setup.refetch}>
          Try again
        </button>
      </div>
    );
  }
  if (unconfigured || firstRun) {
    return (
      <main className="content standalone">
        <FirstRun
          onDone={() => {
            setFirstRun(false);
            setup.refetch();
            navigate("/");
          }}
        />
      </main>
    );
  }
  const route = findRoute(path);
  const Screen = route?.component;
  return (
    <NodeProvider>
      <Layout path={path}>
        {Screen ? (
          <Screen key={path} />
        ) : (
          <div className="screen">
            <h1>Not found</h1>
            <p>
              There is no screen at <code>{path}</code>. <a href="#/">Back to the odds</a>.
            </p>
          </div>
        )}
      </Layout>
    </NodeProvider>
  );
}
