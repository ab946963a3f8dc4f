import type { CSSProperties, ReactNode } from 'react';
import {
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  DialogTrigger,
} from '@fluentui/react-components';
import { ErrorBox } from './states';
import { DialogCloser } from './DialogLink';

/**
 * The frame every action dialog shares: a title, the content, the API's error (if any) below it, the dialog's own
 * buttons, then Cancel (Close once the action is done). A link inside closes the dialog first (`DialogLink`):
 * with `onLinkClose`, or else with `onClose`.
 */
export function DialogShell(props: {
  title: ReactNode;
  open: boolean;
  onClose: () => void;
  onLinkClose?: () => void;
  done: boolean;
  error?: unknown;
  errorTitle?: string;
  actions?: ReactNode;
  surfaceStyle?: CSSProperties;
  children: ReactNode;
}) {
  return (
    <DialogCloser value={props.onLinkClose ?? props.onClose}>
      <Dialog
        open={props.open}
        onOpenChange={(_, d) => {
          if (!d.open) {
            props.onClose();
          }
        }}
      >
        <DialogSurface aria-describedby={undefined} style={props.surfaceStyle}>
          <DialogBody>
            <DialogTitle>{props.title}</DialogTitle>
            <DialogContent>
              {props.children}
              {props.error !== undefined && props.error !== null && (
                <div style={{ marginTop: 12 }}>
                  <ErrorBox error={props.error} title={props.errorTitle} />
                </div>
              )}
            </DialogContent>
            <DialogActions>
              {props.actions}
              <DialogTrigger disableButtonEnhancement>
                <Button appearance="secondary">{props.done ? 'Close' : 'Cancel'}</Button>
              </DialogTrigger>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>
    </DialogCloser>
  );
}
