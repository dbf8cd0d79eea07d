import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import Devices from "./Devices";
import { renderScreen } from "../test/render";
import {
  bitaxe,
  devices,
  devicesNoOpenCl,
  devicesNoWorkers,
  devicesStratumOff,
  makeFake,
  ME_ADDRESS,
  WALLET_ADDRESS,
  walletNode,
} from "../test/fixtures";

afterEach(() => {
  vi.useRealTimers();
  Reflect.deleteProperty(window, "isSecureContext");
});

describe("Devices", () => {
  it("shows the CPU miner with a way to the Mining screen", async () => {
    renderScreen(<Devices />, makeFake());
    expect(await screen.findByTestId("cpu-state")).toHaveTextContent("Mining");
    expect(screen.getByTestId("cpu-hashrate")).toHaveTextContent("66.6 MH/s");
    expect(screen.getByTestId("cpu-threads")).toHaveTextContent("2");
    expect(screen.getByText("up to 16")).toBeInTheDocument();
    expect(screen.getByText("backend avx2")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Mining screen" })).toHaveAttribute("href", "#/mining");
  });

  it("lists OpenCL devices and turns one off and tunes it with setdevice", async () => {
    const t = makeFake();
    renderScreen(<Devices />, t);
    const dev = await screen.findByTestId("opencl-device");
    expect(dev).toHaveTextContent("cpu-haswell-Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz");
    expect(dev).toHaveTextContent("GenuineIntel · Portable Computing Language · id 0:0");
    expect(dev).toHaveTextContent("12 at 4,600 MHz");
    expect(dev).toHaveTextContent("8 nonces per work item");
    expect(dev).toHaveTextContent("12.4 GiB");
    expect(within(dev).getByTestId("opencl-hashrate")).toHaveTextContent("21.5 MH/s");
    expect(within(dev).getByTestId("opencl-state")).toHaveTextContent("mining");

    const toggle = within(dev).getByRole("checkbox", { name: /mine on this device/i });
    expect(toggle).toBeChecked();
    await userEvent.click(toggle);
    expect(t.callsOf("setdevice")).toEqual([["0:0", false]]);
    await waitFor(() => expect(within(dev).getByTestId("opencl-state")).toHaveTextContent("off"));
    expect(toggle).not.toBeChecked();
    expect(within(dev).getByTestId("opencl-hashrate")).toHaveTextContent("0 H/s");

    // The slider spans the node's range; Apply sends the intensity alone.
    const slider = within(dev).getByTestId("opencl-intensity");
    expect(slider).toHaveAttribute("min", "8");
    expect(slider).toHaveAttribute("max", "31");
    expect(slider).toHaveValue("24");
    const apply = within(dev).getByRole("button", { name: "Apply" });
    expect(apply).toBeDisabled();
    fireEvent.change(slider, { target: { value: "20" } });
    await userEvent.click(apply);
    expect(t.callsOf("setdevice")[1]).toEqual(["0:0", undefined, 20]);
    await waitFor(() => expect(apply).toBeDisabled());
    expect(slider).toHaveValue("20");
  });

  it("shows the node's refusal of a device setting inline", async () => {
    const t = makeFake().fail("setdevice", -8, "no OpenCL device 0:0");
    renderScreen(<Devices />, t);
    await userEvent.click(await screen.findByRole("checkbox", { name: /mine on this device/i }));
    expect(await screen.findByRole("alert")).toHaveTextContent("no OpenCL device 0:0");
  });

  it("says plainly when there is no OpenCL driver", async () => {
    renderScreen(<Devices />, makeFake().set("getdevices", devicesNoOpenCl));
    const note = await screen.findByTestId("opencl-unavailable");
    expect(note).toHaveTextContent("No OpenCL driver found — GPUs can't mine; the CPU miner works.");
    // Once, without error styling; the driver's words only behind "Details".
    expect(screen.getAllByText(/No OpenCL driver found/)).toHaveLength(1);
    expect(screen.queryByRole("alert")).toBeNull();
    expect(within(note).getByText("Details")).toBeInTheDocument();
    expect(screen.queryByTestId("opencl-device")).toBeNull();
    // The rest of the screen works as usual.
    expect(screen.getByTestId("cpu-state")).toHaveTextContent("Mining");
    expect(screen.getAllByTestId("worker-row")).toHaveLength(2);
  });

  it("shows where to point a miner, with copy buttons", async () => {
    // jsdom is no secure context: pretend to be one, so that the copy uses the clipboard API
    // (user-event's stand-in for it).
    Object.defineProperty(window, "isSecureContext", { value: true, configurable: true });
    const user = userEvent.setup();
    renderScreen(<Devices />, makeFake());
    expect(await screen.findByTestId("stratum-url")).toHaveTextContent("stratum+tcp://192.168.1.20:3333");
    expect(screen.getByText("192.168.1.20")).toBeInTheDocument();
    expect(screen.getByText("3333")).toBeInTheDocument();
    expect(screen.getByTestId("stratum-other-urls")).toHaveTextContent("stratum+tcp://127.0.0.1:3333");
    expect(screen.getByTestId("stratum-user")).toHaveTextContent(`${ME_ADDRESS}.rig1`);
    expect(screen.getByText(/Any address of this network works there: that device's shares pay it/)).toBeInTheDocument();
    expect(screen.getByText(/Password: anything/)).toBeInTheDocument();
    const diff = screen.getByTestId("stratum-difficulty");
    expect(diff).toHaveTextContent("A new device starts at0.0001");
    expect(diff).toHaveTextContent("Lowest0.000001");
    expect(diff).toHaveTextContent("one share every 10 s per device");

    const button = screen.getByRole("button", { name: "Copy the pool URL: stratum+tcp://192.168.1.20:3333" });
    await user.click(button);
    expect(await navigator.clipboard.readText()).toBe("stratum+tcp://192.168.1.20:3333");
    expect(button).toHaveTextContent("Copied");

    // The worker name goes into the user name to copy.
    const name = screen.getByRole("textbox", { name: "Worker name" });
    await user.clear(name);
    await user.type(name, "bitaxe");
    expect(screen.getByTestId("stratum-user")).toHaveTextContent(`${ME_ADDRESS}.bitaxe`);
    await user.click(screen.getByRole("button", { name: `Copy the user name: ${ME_ADDRESS}.bitaxe` }));
    expect(await navigator.clipboard.readText()).toBe(`${ME_ADDRESS}.bitaxe`);
  });

  it("offers the wallet's mining address for a device's user name, with a copy button", async () => {
    Object.defineProperty(window, "isSecureContext", { value: true, configurable: true });
    const user = userEvent.setup();
    renderScreen(<Devices />, walletNode({ mining_address: WALLET_ADDRESS }).install(makeFake()));
    expect(await screen.findByTestId("wallet-mining-address")).toHaveTextContent(WALLET_ADDRESS);
    // The user name to copy is the wallet's address, not the node's own key.
    expect(screen.getByTestId("stratum-user")).toHaveTextContent(`${WALLET_ADDRESS}.rig1`);
    expect(screen.getByTestId("stratum")).toHaveTextContent("The first part is your wallet's mining address.");
    expect(screen.queryByTestId("stratum-no-wallet")).toBeNull();
    await user.click(screen.getByRole("button", { name: `Copy the wallet's mining address: ${WALLET_ADDRESS}` }));
    expect(await navigator.clipboard.readText()).toBe(WALLET_ADDRESS);
    await user.click(screen.getByRole("button", { name: `Copy the user name: ${WALLET_ADDRESS}.rig1` }));
    expect(await navigator.clipboard.readText()).toBe(`${WALLET_ADDRESS}.rig1`);
  });

  it("without a wallet, leads to creating one and names the node's own address meanwhile", async () => {
    renderScreen(<Devices />, walletNode({ exists: false, unlocked: false, mining_address: null }).install(makeFake()));
    const note = await screen.findByTestId("stratum-no-wallet");
    expect(note).toHaveTextContent("No wallet yet");
    expect(screen.getByRole("link", { name: "Create a wallet" })).toHaveAttribute("href", "#/setup/wallet");
    expect(screen.queryByTestId("wallet-mining-address")).toBeNull();
    expect(screen.getByTestId("stratum-user")).toHaveTextContent(`${ME_ADDRESS}.rig1`);
    expect(screen.getByTestId("stratum")).toHaveTextContent("The first part is this node's address.");
  });

  it("explains how to turn the Stratum server on", async () => {
    renderScreen(<Devices />, makeFake().set("getdevices", devicesStratumOff));
    const off = await screen.findByTestId("stratum-off");
    expect(off).toHaveTextContent("--stratum-bind 0.0.0.0:3333");
    expect(screen.queryByTestId("stratum-url")).toBeNull();
    expect(screen.getByTestId("workers-empty")).toHaveTextContent("Turn on the server for mining devices");
  });

  it("lists connected devices with rates, shares and rejections by reason", async () => {
    renderScreen(<Devices />, makeFake());
    const rows = await screen.findAllByTestId("worker-row");
    expect(rows).toHaveLength(2);
    const [axe, nerd] = rows as [HTMLElement, HTMLElement];
    expect(axe).toHaveTextContent("bitaxe");
    expect(axe).toHaveTextContent("192.168.1.41:51022");
    expect(axe).toHaveTextContent("bitaxe/BM1370/v2.4.5");
    expect(axe).toHaveTextContent("bcrt1q…ygt080");
    expect(within(axe).getByText("you")).toBeInTheDocument();
    expect(within(axe).getByTestId("worker-rate")).toHaveTextContent("1.12 TH/s");
    expect(axe).toHaveTextContent("1.09 TH/s");
    expect(axe).toHaveTextContent("1.10 TH/s");
    expect(axe).toHaveTextContent("2.56k");
    expect(axe).toHaveTextContent("1,078");
    expect(axe).toHaveTextContent("48.3M");
    expect(axe).toHaveTextContent(/\d+ s ago/);
    const rejected = within(axe).getByTestId("worker-rejected");
    expect(rejected).toHaveTextContent("4");
    expect(rejected).toHaveAttribute("title", "Rejected: 3 stale · 1 below the difficulty");

    expect(nerd).toHaveTextContent("nerdminer");
    expect(within(nerd).queryByText("you")).toBeNull();
    expect(within(nerd).getByTestId("worker-rate")).toHaveTextContent("61.2 kH/s");
    expect(nerd).toHaveTextContent("0.00014");
    expect(within(nerd).getByTestId("worker-rejected")).toHaveTextContent("0");
    expect(within(nerd).getByTestId("worker-rejected")).toHaveAttribute("title", "Rejected: none");
    expect(screen.getByTestId("workers-total")).toHaveTextContent("1.12 TH/s together");
  });

  it("says when no device is connected, and how to connect one", async () => {
    renderScreen(<Devices />, makeFake().set("getdevices", devicesNoWorkers));
    const empty = await screen.findByTestId("workers-empty");
    expect(empty).toHaveTextContent("No device connected yet");
    expect(empty).toHaveTextContent("Point a Bitaxe, NerdMiner or other miner at stratum+tcp://192.168.1.20:3333 with user <address>.<worker name>");
    expect(screen.queryByTestId("workers-table")).toBeNull();
  });

  it("refreshes on stratum and mining events", async () => {
    const t = makeFake().set("getdevices", devicesNoWorkers);
    renderScreen(<Devices />, t);
    await screen.findByTestId("workers-empty");
    t.set("getdevices", { ...devices, stratum: { ...devices.stratum, workers: [bitaxe] } });
    act(() => t.emit({ type: "stratum", id: 3, worker: bitaxe.worker, kind: "authorized", detail: "" }));
    expect(await screen.findAllByTestId("worker-row")).toHaveLength(1);
    t.set("getdevices", { ...devices, cpu: { ...devices.cpu, mining: false, hashrate: 0 } });
    act(() => t.emit({ type: "mining", mining: false, threads: 2, backend: "avx2" }));
    await waitFor(() => expect(screen.getByTestId("cpu-state")).toHaveTextContent("Stopped"));
  });

  it("asks again every 3 s while open", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const t = makeFake();
    const { unmount } = renderScreen(<Devices />, t);
    await screen.findByTestId("cpu-state");
    expect(t.callsOf("getdevices")).toHaveLength(1);
    act(() => vi.advanceTimersByTime(3_000));
    await waitFor(() => expect(t.callsOf("getdevices")).toHaveLength(2));
    act(() => vi.advanceTimersByTime(3_000));
    await waitFor(() => expect(t.callsOf("getdevices")).toHaveLength(3));
    unmount();
    act(() => vi.advanceTimersByTime(9_000));
    await new Promise((r) => setTimeout(r, 30));
    expect(t.callsOf("getdevices")).toHaveLength(3);
  });
});
