// The card of a screen that needs a wallet the node does not have yet: why it matters here (the
// caller's words) and the way to the wallet step of the setup.
import type { ReactNode } from "react";
import { Card } from "./Card";

export function NoWalletCard({ children }: { children: ReactNode }) {
  return (
    <Card title="No wallet yet">
      <div data-testid="no-wallet">
        {children}
        <div className="form-actions">
          <a className="btn btn-primary" href="#/setup/wallet" data-testid="setup-wallet-link">
            Create or restore a wallet
          </a>
        </div>
      </div>
    </Card>
  );
}
