// useLoad's timed refresh: every admin read is audited and rate limited (requests without a
// session count too), so a page whose admin session ended stops refreshing until the key is
// entered again, and then loads once at once.
import { act, cleanup, render } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, sessionRenewed } from "../api/client";
import { useLoad } from "./useLoad";

let load: ReturnType<typeof vi.fn<() => Promise<string>>>;
function Probe() {
  const l = useLoad(load, [], { refreshMs: 1000 });
  return <p data-testid="v">{l.data ?? ""}</p>;
}

const expired = () => new ApiError(401, { code: "admin_session_expired", detail: "The admin session has expired.", user_action: "Enter the admin key again." });

beforeEach(() => {
  vi.useFakeTimers();
  load = vi.fn(async () => "ok");
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

/** Advances the clock in 100 ms steps, each its own act(), so every timer's render happens. */
async function tick(ms: number) {
  for (let left = ms; left > 0; left -= 100) await act(async () => void (await vi.advanceTimersByTimeAsync(Math.min(100, left))));
}

describe("useLoad", () => {
  it("refreshes on its timer while the session holds", async () => {
    render(<Probe />);
    await tick(3500);
    expect(load).toHaveBeenCalledTimes(4);
  });

  it("stops refreshing while the admin session is gone and loads again once it is renewed", async () => {
    load.mockImplementation(async () => {
      throw expired();
    });
    render(<Probe />);
    await tick(10_000);
    expect(load).toHaveBeenCalledTimes(1);
    load.mockImplementation(async () => "back");
    act(() => sessionRenewed());
    await tick(10);
    expect(load).toHaveBeenCalledTimes(2);
    await tick(2500);
    expect(load).toHaveBeenCalledTimes(4);
  });
});
