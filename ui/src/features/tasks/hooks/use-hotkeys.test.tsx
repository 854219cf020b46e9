import { fireEvent, render } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { useHotkeys } from "./use-hotkeys";

function Harness({ onN }: { onN: () => void }) {
  useHotkeys({ n: onN });
  return <input aria-label="field" />;
}

describe("useHotkeys", () => {
  it("fires on the page but not while typing or with modifiers", () => {
    const onN = vi.fn();
    const { getByLabelText } = render(<Harness onN={onN} />);
    fireEvent.keyDown(document.body, { key: "n" });
    expect(onN).toHaveBeenCalledTimes(1);
    fireEvent.keyDown(getByLabelText("field"), { key: "n" });
    fireEvent.keyDown(document.body, { key: "n", ctrlKey: true });
    expect(onN).toHaveBeenCalledTimes(1);
  });
});
