import type { ReactNode } from "react";
import { isRpcError, ErrorCode } from "../api/transport";
import type { RpcState } from "../api/hooks";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

/** Explain an error in words: a missing method gets its own message, not a blank screen. */
export function ErrorNote({ error, what }: { error: Error; what?: string }) {
  let title: string;
  let body: string;
  if (isRpcError(error) && error.methodMissing) {
    title = `${what ?? "This part"} is not available on this node`;
    body = `The node does not know the method "${error.method}". It is probably older than this dashboard; update p2share.`;
  } else if (isRpcError(error) && error.code === ErrorCode.TRANSPORT) {
    title = "Cannot reach the node";
    body = error.message;
  } else if (isRpcError(error) && error.code === ErrorCode.UNAUTHORIZED) {
    title = "Not logged in";
    body = "Your session ended. Opening the login page…";
  } else {
    title = what ? `Could not load ${what.toLowerCase()}` : "Something went wrong";
    body = isRpcError(error) ? `${error.message} (${error.method}, code ${error.code})` : error.message;
  }
  return (
    <div className="note note-error" role="alert">
      <strong>{title}</strong>
      <div>{body}</div>
    </div>
  );
}

/** Render `children(data)` once the call answered; loading and error states otherwise. */
export function Rpc<T>({
  state,
  what,
  children,
}: {
  state: RpcState<T>;
  what?: string;
  children: (data: T) => ReactNode;
}) {
  if (state.data !== undefined) {
    return (
      <>
        {state.error && <ErrorNote error={state.error} what={what} />}
        {children(state.data)}
      </>
    );
  }
  if (state.error) return <ErrorNote error={state.error} what={what} />;
  return <Loading />;
}

export function Note({ children, tone = "info" }: { children: ReactNode; tone?: "info" | "warn" | "good" }) {
  return <div className={`note note-${tone}`}>{children}</div>;
}

/**
 * The node refused a request (a bad address, no funds, a wrong word…): its own words under a
 * title that says what did not happen. A missing method or an unreachable node reads as usual.
 */
export function Refusal({ error, title, testId }: { error: Error; title: string; testId?: string }) {
  if (isRpcError(error) && (error.code === ErrorCode.TRANSPORT || error.code === ErrorCode.UNAUTHORIZED)) {
    return <ErrorNote error={error} />;
  }
  const text =
    isRpcError(error) && error.methodMissing
      ? `This node does not know the method "${error.method}": it is older than this dashboard; update p2share.`
      : error.message.charAt(0).toUpperCase() + error.message.slice(1);
  return (
    <div className="note note-error" role="alert" data-testid={testId}>
      <strong>{title}</strong>
      <div>{text}</div>
    </div>
  );
}
