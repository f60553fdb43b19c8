import { useTranslation } from 'react-i18next';

import { Icon } from '../Icon';

/** Cancel and Save at the foot of a dialog's form; Save submits it and spins while `saving`. */
export function DialogFooter({ onCancel, saving, saveTestId }: { onCancel: () => void; saving: boolean; saveTestId: string }) {
  const { t } = useTranslation();
  return (
    <div className="modal-footer form-footer">
      <button type="button" className="btn" onClick={onCancel}>
        {t('common.cancel')}
      </button>
      <button type="submit" className="btn btn-primary" data-testid={saveTestId} disabled={saving}>
        {saving ? <span className="spinner spinner-light" aria-hidden="true" /> : <Icon name="check" size={16} />}
        {saving ? t('common.saving') : t('common.save')}
      </button>
    </div>
  );
}
