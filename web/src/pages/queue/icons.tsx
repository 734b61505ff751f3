/** Small inline icons (SVG, so no font lacks them); always beside a word, hidden from screen readers. */
const base = { width: 14, height: 14, viewBox: '0 0 16 16', 'aria-hidden': true, focusable: false, className: 'icon' } as const;

export function ClockIcon() {
  return <svg {...base}><circle cx="8" cy="8" r="6.5" fill="none" stroke="currentColor" strokeWidth="1.5" /><path d="M8 4v4.5l3 1.8" fill="none" stroke="currentColor" strokeWidth="1.5" /></svg>;
}

export function WarningIcon() {
  return <svg {...base}><path d="M8 1.5 15 14.5H1z" fill="currentColor" /><path d="M8 6v4.2M8 11.8v1.2" stroke="#fff" strokeWidth="1.6" /></svg>;
}

export function BellIcon({ off }: { off?: boolean }) {
  return (
    <svg {...base}>
      <path d="M8 1.8c-2.5 0-4 1.9-4 4.4v3L2.5 12h11L12 9.2v-3c0-2.5-1.5-4.4-4-4.4zM6.5 13.2a1.5 1.5 0 0 0 3 0" fill="none" stroke="currentColor" strokeWidth="1.4" />
      {off === true && <path d="M2 2l12 12" stroke="currentColor" strokeWidth="1.6" />}
    </svg>
  );
}
