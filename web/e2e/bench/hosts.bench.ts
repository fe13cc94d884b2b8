import { expect, test } from "@playwright/test";
import { adminPassword, signIn } from "../helpers";

// Prints figures for the hosts page at the fleet size scripts/bench-hosts-ui.sh seeded.
// Timings come from the page's own clock (performance.now), so they include fetching,
// rendering and layout, not Playwright's round trips.
test("hosts page at fleet scale", async ({ page }) => {
  const hosts = process.env.BENCH_HOSTS ?? "?";
  await page.goto("/sign-in");
  await signIn(page, "admin", adminPassword);
  await expect(page.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();

  const firstRow = page.getByRole("table", { name: "Hosts" }).getByRole("link").first();
  const loads: number[] = [];
  for (let i = 0; i < 5; i++) {
    await page.goto("/hosts");
    await firstRow.waitFor();
    loads.push(await page.evaluate(() => performance.now()));
  }

  const clicks: number[] = [];
  for (let i = 0; i < 5; i++) {
    await page.goto("/");
    await expect(page.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
    // The hosts list must come from the server each time, not from the cache.
    await page.evaluate(() => sessionStorage.clear());
    const t0 = await page.evaluate(() => performance.now());
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Hosts" }).click();
    await firstRow.waitFor();
    clicks.push((await page.evaluate(() => performance.now())) - t0);
  }

  // The frame rate of this browser with nothing to do, for comparison: headless Chromium
  // without a GPU may pace frames slower than a display would.
  const idle = await page.evaluate(async () => {
    const frames: number[] = [];
    let last = performance.now();
    const start = last;
    await new Promise<void>((resolve) => {
      const step = (now: number) => {
        frames.push(now - last);
        last = now;
        if (now - start < 1000) requestAnimationFrame(step);
        else resolve();
      };
      requestAnimationFrame(step);
    });
    return frames.sort((a, b) => a - b)[Math.floor(frames.length / 2)] ?? 0;
  });

  // Scroll the table's own scroller steadily for 5 seconds (pages load as it nears the end)
  // and record every frame's duration.
  const scroll = await page.evaluate(async () => {
    const el = document.querySelector('[data-testid="hosts-table"]') as HTMLElement;
    const frames: number[] = [];
    const start = performance.now();
    let last = start;
    await new Promise<void>((resolve) => {
      const step = (now: number) => {
        frames.push(now - last);
        last = now;
        el.scrollTop += 400;
        if (now - start < 5000) requestAnimationFrame(step);
        else resolve();
      };
      requestAnimationFrame(step);
    });
    const rowsInDom = el.querySelectorAll("tbody tr").length;
    return { frames, rowsInDom, scrollTop: el.scrollTop };
  });
  const shown = await page.getByTestId("hosts-table-count").textContent();

  const sorted = [...scroll.frames].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  console.log(`hosts seeded: ${hosts}`);
  console.log(`first rows, full page load (navigation start to first row), median of 5: ${ms(med(loads))} [${loads.map(ms).join(", ")}]`);
  console.log(`first rows, click from the dashboard, median of 5: ${ms(med(clicks))} [${clicks.map(ms).join(", ")}]`);
  console.log(`idle frame time of this browser (p50): ${ms(idle)}`);
  console.log(
    `scrolling 5 s at 400 px a frame: ${scroll.frames.length} frames, p50 ${ms(pct(50))}, p95 ${ms(pct(95))}, max ${ms(pct(100))}, ` +
      `frames over 50 ms: ${scroll.frames.filter((f) => f > 50).length}; rows in the DOM at the end: ${scroll.rowsInDom}; ${shown}`,
  );
});
