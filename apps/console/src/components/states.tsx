import { MessageBar, MessageBarBody, MessageBarTitle, Spinner, Text } from '@fluentui/react-components';
import type { ReactNode } from 'react';
import { errorMessage } from '../api/client';

export function Loading(props: { label?: string }) {
  return <Spinner size="small" label={props.label ?? 'Loading…'} />;
}

/** The API's own message, never a blank page. */
export function ErrorBox(props: { error: unknown; title?: string }) {
  return (
    <MessageBar intent="error" role="alert">
      <MessageBarBody>
        <MessageBarTitle>{props.title ?? 'Request failed'}</MessageBarTitle>
        {errorMessage(props.error)}
      </MessageBarBody>
    </MessageBar>
  );
}

export function Empty(props: { children: ReactNode }) {
  return (
    <Text as="p" italic>
      {props.children}
    </Text>
  );
}

/** Loading, error and empty states of one query, in one place. */
export function QueryState<T>(props: {
  query: { isPending: boolean; error: unknown; data: T | undefined };
  empty?: (data: T) => boolean;
  emptyText?: string;
  children: (data: T) => ReactNode;
}) {
  const { query } = props;
  if (query.isPending) {
    return <Loading />;
  }
  if (query.error || query.data === undefined) {
    return <ErrorBox error={query.error ?? new Error('No data')} />;
  }
  if (props.empty?.(query.data)) {
    return <Empty>{props.emptyText ?? 'Nothing here.'}</Empty>;
  }
  return <>{props.children(query.data)}</>;
}
