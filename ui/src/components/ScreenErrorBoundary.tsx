// Catches an error thrown while drawing one screen, so the rest of the window (navigation, other
// screens) keeps working and the user reads what happened instead of a blank window.
import { Component, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

type Props = { children: ReactNode; resetKey: string };
type State = { error: Error | null };

function Fallback({ error, onRetry }: { error: Error; onRetry: () => void }) {
  const { t } = useTranslation();
  return (
    <section className="page" data-testid="screen-error">
      <div className="alert alert-error" role="alert">
        <div className="alert-body">
          <strong className="alert-title">{t('screenError.title')}</strong>
          <p className="alert-text">{t('screenError.body')}</p>
          <details>
            <summary>{t('common.details')}</summary>
            <pre className="mono small" data-testid="screen-error-detail">
              {error.name}: {error.message}
            </pre>
          </details>
          <button type="button" className="btn" onClick={onRetry}>
            {t('common.retry')}
          </button>
        </div>
      </div>
    </section>
  );
}

export class ScreenErrorBoundary extends Component<Props, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override componentDidCatch(error: Error) {
    console.error('screen failed', error);
  }

  override componentDidUpdate(prev: Props) {
    if (prev.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: null });
  }

  override render() {
    if (this.state.error) return <Fallback error={this.state.error} onRetry={() => this.setState({ error: null })} />;
    return this.props.children;
  }
}
