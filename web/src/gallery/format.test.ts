import { describe, expect, it } from "vitest";
import { downloadName, formatCreated, formatSeconds, resultExtension, videoInfo } from "./format";

describe("videoInfo", () => {
  it("derives the length from num_frames and fps", () => {
    expect(videoInfo({ type: "video", parameters: { num_frames: 81, fps: 16 } })).toEqual({ fps: 16, seconds: 81 / 16 });
  });
  it("has nothing for images or missing parameters", () => {
    expect(videoInfo({ type: "image", parameters: { num_frames: 81, fps: 16 } })).toEqual({});
    expect(videoInfo({ type: "video", parameters: {} })).toEqual({ fps: undefined, seconds: undefined });
    expect(videoInfo({ type: "video", parameters: { fps: "24" } })).toEqual({ fps: 24, seconds: undefined });
  });
});

describe("formatSeconds", () => {
  it("shows tenths below a minute and m:ss above", () => {
    expect(formatSeconds(5.0625)).toBe("5.1 s");
    expect(formatSeconds(65)).toBe("1:05");
  });
});

describe("download names", () => {
  it("use the output format, else the type's usual one", () => {
    expect(resultExtension({ type: "image", parameters: { output_format: "jpeg" } })).toBe("jpg");
    expect(resultExtension({ type: "image", parameters: {} })).toBe("png");
    expect(resultExtension({ type: "video", parameters: { output_format: "webm" } })).toBe("webm");
    expect(resultExtension({ type: "video", parameters: {} })).toBe("mp4");
  });
  it("hold only safe characters", () => {
    const name = downloadName({ id: "1a2b3c4d-0000-4000-8000-000000000000", model: "Flux.1 [dev]/x", type: "image", parameters: {} });
    expect(name).toBe("gooni-Flux.1_dev_x-1a2b3c4d.png");
  });
});

describe("formatCreated", () => {
  it("formats a date and leaves an unparsable one as it is", () => {
    expect(formatCreated("2026-01-02T03:04:05Z", "en")).toMatch(/2026/);
    expect(formatCreated("not a date", "ru")).toBe("not a date");
  });
});
