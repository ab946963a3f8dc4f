import { createContext, type ReactNode, useContext, useEffect, useState } from 'react';
import { Link as RouterLink, useNavigate } from 'react-router';

/**
 * Closes the dialog a link sits in. A Fluent dialog unmounted while open (its page left by a link) leaves the
 * rest of the page aria-hidden, so a link inside a dialog closes the dialog first and navigates after.
 */
const CloseContext = createContext<(() => void) | null>(null);
export const DialogCloser = CloseContext.Provider;

export function DialogLink(props: { to: string; children: ReactNode }) {
  const close = useContext(CloseContext);
  const navigate = useNavigate();
  return (
    <RouterLink
      to={props.to}
      onClick={(e) => {
        if (!close || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) {
          return;
        }
        e.preventDefault();
        close();
        setTimeout(() => void navigate(props.to), 0);
      }}
    >
      {props.children}
    </RouterLink>
  );
}

/**
 * Whether a dialog should be in the DOM: from when it opens until its closing motion is over. A Fluent dialog
 * unmounted while open leaves the page aria-hidden; closed dialogs kept mounted leave focusable tabster guards
 * behind (axe: aria-hidden-focus). So a dialog is closed first (open=false) and unmounted a moment later.
 */
export function useMountedWhile(open: boolean, ms = 500): boolean {
  const [mounted, setMounted] = useState(open);
  useEffect(() => {
    if (open) {
      setMounted(true);
      return undefined;
    }
    const t = setTimeout(() => setMounted(false), ms);
    return () => clearTimeout(t);
  }, [open, ms]);
  return open || mounted;
}
