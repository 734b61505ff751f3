/**
 * The alert's own words (what the templates do not label): a small message catalogue, as data.
 * English and Russian are complete (the type requires them); French, Spanish, Chinese and Arabic
 * have what is translated so far, and a missing entry falls back to English. `{name}` is filled
 * in by {@link words}. Field labels, kind names and codes come from the templates
 * (templates/vocabularies.json and templates/<kind>.json), in all their languages.
 */
export type Entry = { readonly en: string; readonly ru: string } & Readonly<Partial<Record<'fr' | 'es' | 'zh' | 'ar', string>>>;

export const WORDS = {
  'subject.escalation': {
    en: '[hotline {priority}] {kind} from {from} awaits acknowledgement (due {due})',
    ru: '[hotline {priority}] {kind} от {from} ждёт подтверждения (срок {due})',
    fr: '[hotline {priority}] {kind} de {from} attend un accusé de réception (échéance {due})',
    es: '[hotline {priority}] {kind} de {from} espera acuse de recibo (vence {due})',
  },
  'subject.overdue': {
    en: '[hotline {priority}] {kind} to {to} is overdue: not acknowledged by {due}',
    ru: '[hotline {priority}] {kind} для {to} просрочено: не подтверждено к {due}',
    fr: '[hotline {priority}] {kind} pour {to} en retard : pas d\'accusé de réception avant {due}',
    es: '[hotline {priority}] {kind} para {to} vencido: sin acuse de recibo antes de {due}',
  },
  'subject.preservation': {
    en: '[hotline] Preservation {reference} expires {expires}',
    ru: '[hotline] Срок сохранения данных {reference} истекает {expires}',
    fr: '[hotline] La conservation {reference} expire le {expires}',
    es: '[hotline] La conservación {reference} vence el {expires}',
  },
  'subject.test': {
    en: '[hotline] Test alert from {node} to the sink {sink}',
    ru: '[hotline] Проверочное оповещение от {node} в канал {sink}',
    fr: '[hotline] Alerte de test de {node} vers {sink}',
    es: '[hotline] Alerta de prueba de {node} a {sink}',
  },
  'headline.escalation': {
    en: 'A {priority} message from {from} needs a person\'s acknowledgement (escalation step {step}).',
    ru: 'Сообщение с приоритетом {priority} от {from} требует подтверждения человеком (шаг эскалации {step}).',
    fr: 'Un message {priority} de {from} attend l\'accusé de réception d\'une personne (étape d\'escalade {step}).',
    es: 'Un mensaje {priority} de {from} requiere el acuse de recibo de una persona (paso de escalado {step}).',
  },
  'headline.overdue': {
    en: '{to} has not acknowledged our {priority} message by its deadline.',
    ru: '{to} не подтвердил наше сообщение с приоритетом {priority} в срок.',
    fr: '{to} n\'a pas accusé réception de notre message {priority} dans le délai.',
    es: '{to} no ha acusado recibo de nuestro mensaje {priority} en el plazo.',
  },
  'headline.preservation': {
    en: 'The preservation of data in case {case} expires in {days} days.',
    ru: 'Срок сохранения данных по делу {case} истекает через {days} дн.',
    fr: 'La conservation des données du dossier {case} expire dans {days} jours.',
    es: 'La conservación de datos del caso {case} vence en {days} días.',
  },
  'headline.test': {
    en: 'This is a test of the alert sink {sink}. Nothing needs to be done.',
    ru: 'Это проверка канала оповещений {sink}. Ничего делать не нужно.',
    fr: 'Ceci est un test du canal d\'alerte {sink}. Aucune action n\'est requise.',
    es: 'Esta es una prueba del canal de alertas {sink}. No hace falta hacer nada.',
  },
  'label.priority': { en: 'Priority', ru: 'Приоритет', fr: 'Priorité', es: 'Prioridad', zh: '优先级', ar: 'الأولوية' },
  'label.from': { en: 'From', ru: 'От', fr: 'De', es: 'De', zh: '发件方', ar: 'من' },
  'label.to': { en: 'To', ru: 'Кому', fr: 'À', es: 'Para', zh: '收件方', ar: 'إلى' },
  'label.kind': { en: 'Kind', ru: 'Вид', fr: 'Type', es: 'Tipo', zh: '类型', ar: 'النوع' },
  'label.channel': { en: 'Channel', ru: 'Канал', fr: 'Canal', es: 'Canal', zh: '渠道', ar: 'القناة' },
  'label.case': { en: 'Case', ru: 'Дело', fr: 'Dossier', es: 'Caso', zh: '案件', ar: 'القضية' },
  'label.sent': { en: 'Sent (UTC)', ru: 'Отправлено (UTC)', fr: 'Envoyé (UTC)', es: 'Enviado (UTC)' },
  'label.due_utc': { en: 'Due (UTC)', ru: 'Срок (UTC)', fr: 'Échéance (UTC)', es: 'Vence (UTC)' },
  'label.due_local': { en: 'Due ({zone})', ru: 'Срок ({zone})', fr: 'Échéance ({zone})', es: 'Vence ({zone})' },
  'label.expires_utc': { en: 'Expires (UTC)', ru: 'Истекает (UTC)', fr: 'Expire (UTC)', es: 'Vence (UTC)' },
  'label.expires_local': { en: 'Expires ({zone})', ru: 'Истекает ({zone})', fr: 'Expire ({zone})', es: 'Vence ({zone})' },
  'label.reference': { en: 'Reference', ru: 'Номер', fr: 'Référence', es: 'Referencia' },
  'label.on_duty': { en: 'Paged', ru: 'Оповещён', fr: 'Prévenu', es: 'Avisado' },
  'label.content': { en: 'Content', ru: 'Содержание', fr: 'Contenu', es: 'Contenido', zh: '内容', ar: 'المحتوى' },
  'label.todo': { en: 'What to do', ru: 'Что сделать', fr: 'Que faire', es: 'Qué hacer' },
  'red': {
    en: 'a TLP:RED message for {recipients}',
    ru: 'сообщение TLP:RED для {recipients}',
    fr: 'un message TLP:RED pour {recipients}',
    es: 'un mensaje TLP:RED para {recipients}',
  },
  'action.ack': { en: 'acknowledge: {command}', ru: 'подтвердить: {command}', fr: 'accuser réception : {command}', es: 'acusar recibo: {command}' },
  'action.show': { en: 'read it: {command}', ru: 'прочитать: {command}', fr: 'le lire : {command}', es: 'leerlo: {command}' },
  'action.open': { en: 'open in the console: {url}', ru: 'открыть в консоли: {url}', fr: 'ouvrir dans la console : {url}', es: 'abrir en la consola: {url}' },
  'action.overdue': {
    en: 'call {to}\'s duty officer; see the message: {command}',
    ru: 'позвоните дежурному {to}; сообщение: {command}',
    fr: 'appelez l\'officier de permanence de {to} ; le message : {command}',
    es: 'llame al oficial de guardia de {to}; el mensaje: {command}',
  },
  'action.preservation': {
    en: 'extend it ({command}) or record the mutual-assistance request',
    ru: 'продлите срок ({command}) или зарегистрируйте запрос о взаимной правовой помощи',
    fr: 'prolongez-la ({command}) ou enregistrez la demande d\'entraide',
    es: 'prorróguela ({command}) o registre la solicitud de asistencia mutua',
  },
  'subject.key_mismatch': {
    en: '[hotline] Key mismatch: receipts from {peer} no longer verify with its pinned key',
    ru: '[hotline] Несовпадение ключа: квитанции от {peer} не проверяются закреплённым ключом',
  },
  'headline.key_mismatch': {
    en: 'A receipt from {peer} is signed by a key this node has not pinned: {peer} may have been reinstalled, or someone else answers at its address.',
    ru: 'Квитанция от {peer} подписана ключом, который этот узел не закреплял: {peer} мог быть переустановлен, или по его адресу отвечает кто-то другой.',
  },
  'label.pinned': { en: 'Pinned fingerprint', ru: 'Закреплённый отпечаток' },
  'action.key_mismatch': {
    en: 'call the administrator of {peer} and compare fingerprints ({command}); delivery to {peer} retries meanwhile and nothing is sent to an unverified key',
    ru: 'позвоните администратору {peer} и сверьте отпечатки ({command}); доставка в {peer} тем временем повторяется, и ничего не отправляется непроверенному ключу',
  },
  'action.none': { en: 'nothing: this is a test', ru: 'ничего: это проверка', fr: 'rien : c\'est un test', es: 'nada: es una prueba' },
} as const satisfies Record<string, Entry>;

export type WordKey = keyof typeof WORDS;

/** The entry `key` in `lang` (English when that language has none), with `{name}` filled from `vars`. */
export function words(key: WordKey, lang: string, vars: Readonly<Record<string, string | number>> = {}): string {
  const entry: Entry = WORDS[key];
  const text = (entry as Readonly<Record<string, string | undefined>>)[lang] ?? entry.en;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (vars[name] === undefined ? m : String(vars[name])));
}
