import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import { FluentProvider, webLightTheme } from '@fluentui/react-components';
import { ApiError } from '../api/client';
import { QueryState } from './states';

const wrap = (ui: React.ReactElement) => render(<FluentProvider theme={webLightTheme}>{ui}</FluentProvider>);

describe('QueryState', () => {
  it("shows the API's message on error, never a blank page", () => {
    wrap(
      <QueryState
        query={{
          isPending: false,
          error: new ApiError(403, 'The token lacks the JobControl.Read role', null),
          data: undefined,
        }}
      >
        {() => <p>data</p>}
      </QueryState>,
    );
    expect(screen.getByRole('alert').textContent).toContain('The token lacks the JobControl.Read role');
  });

  it('shows a loading and an empty state', () => {
    const { rerender } = wrap(
      <QueryState query={{ isPending: true, error: null, data: undefined }}>{() => <p>data</p>}</QueryState>,
    );
    expect(screen.getByText('Loading…')).toBeTruthy();
    rerender(
      <FluentProvider theme={webLightTheme}>
        <QueryState
          query={{ isPending: false, error: null, data: [] as number[] }}
          empty={(d) => d.length === 0}
          emptyText="Nothing yet."
        >
          {() => <p>data</p>}
        </QueryState>
      </FluentProvider>,
    );
    expect(screen.getByText('Nothing yet.')).toBeTruthy();
  });
});
