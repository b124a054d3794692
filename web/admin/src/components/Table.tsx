import type { ReactNode } from 'react';

/**
 * A data table that scrolls sideways inside its own box when the screen is narrow (or zoomed to 200 %),
 * so the page itself never needs horizontal scrolling. The box can take focus, so the keyboard scrolls it.
 */
export function Table({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      <table>{children}</table>
    </div>
  );
}
