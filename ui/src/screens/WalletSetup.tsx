// The wallet step of the first run, on its own (`#/setup/wallet`): for a node set up before it
// had a wallet, reached from the Wallet screen.
import { useRef } from "react";
import { useRpc } from "../api/hooks";
import { navigate } from "../router";
import { ScreenHeader } from "../components/Card";
import { Note, Rpc } from "../components/Status";
import { WalletSetup } from "../components/WalletSetup";

export default function WalletSetupScreen() {
  const info = useRpc("getwalletinfo");
  // Decided on the first answer: a later one (after a reconnect) says the wallet exists as soon as
  // it was created, and must not take the words away before they are written down.
  const needed = useRef<boolean | null>(null);
  if (needed.current === null && info.data) needed.current = !info.data.exists;
  return (
    <div className="screen narrow" data-testid="wallet-setup-screen">
      <ScreenHeader title="Set up the wallet" />
      <Rpc state={info} what="The wallet">
        {() =>
          needed.current ? (
            <>
              <p className="lead">
                Every share this node mines, and every Bitcoin block those shares win, pays this wallet from the moment
                it exists. Until then they pay a key the node keeps in its data directory.
              </p>
              <WalletSetup onDone={() => navigate("/wallet")} />
            </>
          ) : (
            <Note tone="good">
              This node has a wallet. <a href="#/wallet">Open it</a>.
            </Note>
          )
        }
      </Rpc>
    </div>
  );
}
