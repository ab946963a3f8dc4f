import { useRef, useState } from 'react';
import { Button, Menu, MenuItem, MenuList, MenuPopover, MenuTrigger } from '@fluentui/react-components';
import { can } from '../auth/roles';
import { useSession } from '../auth/session';
import type { Hold } from '../api/types';
import { HoldDialog, PauseDialog, ReleaseHoldButton, RestartDialog } from './ControlDialogs';

type Open = 'pause' | 'hold' | 'restart' | null;

/** Whether this session may release the hold: an Admin, or the person who placed it (with the Start role). */
export function useCanRelease(hold: Hold | null | undefined): boolean {
  const session = useSession();
  if (!hold?.active) {
    return false;
  }
  return (
    can(session.roles, 'admin') ||
    (can(session.roles, 'start') && session.id !== null && session.id === hold.placedBy.id)
  );
}

/**
 * Pause, hold / release and restart of one job, for the Start role and up (DESIGN 2c: each needs
 * JobControl.Start; a restart that needs a second person waits for another Admin). Nothing for Read.
 * `menu`: one "More actions" menu (the jobs table); otherwise a row of buttons (the job's page).
 */
export function JobActions(props: {
  spId: string;
  jobId: string;
  hold: Hold | null | undefined;
  menu?: boolean;
}) {
  const session = useSession();
  const [open, setOpen] = useState<Open>(null);
  const opener = useRef<HTMLButtonElement>(null);
  const canRelease = useCanRelease(props.hold);
  if (!can(session.roles, 'start')) {
    return null;
  }
  const held = props.hold?.active === true;
  const close = () => {
    setOpen(null);
    opener.current?.focus();
  };
  const target = { spId: props.spId, jobId: props.jobId };
  const dialogs = (
    <>
      <PauseDialog {...target} open={open === 'pause'} onClose={close} />
      <HoldDialog {...target} open={open === 'hold'} onClose={close} />
      <RestartDialog {...target} open={open === 'restart'} onClose={close} />
    </>
  );
  if (props.menu) {
    return (
      <>
        <Menu>
          <MenuTrigger disableButtonEnhancement>
            <Button ref={opener} size="small" aria-label={`More actions for ${props.jobId}`}>
              More…
            </Button>
          </MenuTrigger>
          <MenuPopover>
            <MenuList>
              <MenuItem onClick={() => setOpen('pause')}>Pause…</MenuItem>
              {!held && <MenuItem onClick={() => setOpen('hold')}>Hold…</MenuItem>}
              <MenuItem onClick={() => setOpen('restart')}>Restart…</MenuItem>
            </MenuList>
          </MenuPopover>
        </Menu>
        {held && canRelease && props.hold && <ReleaseHoldButton hold={props.hold} label="Release" />}
        {dialogs}
      </>
    );
  }
  const button = (which: Exclude<Open, null>, label: string) => (
    <Button
      size="small"
      aria-label={`${label} ${props.jobId}`}
      onClick={(e) => {
        opener.current = e.currentTarget;
        setOpen(which);
      }}
    >
      {label}
    </Button>
  );
  return (
    <>
      {button('pause', 'Pause')}
      {held ? canRelease && props.hold && <ReleaseHoldButton hold={props.hold} /> : button('hold', 'Hold')}
      {button('restart', 'Restart')}
      {dialogs}
    </>
  );
}
