// The SCIM provisioning events a stream can carry (RFC 9967 §2.4) and their URIs. create, put
// and patch come in two forms — "full" with the resource in `data`, "notice" with the names of
// the attributes that changed in `attributes` — and their URI ends with the form; delete,
// activate and deactivate have no payload and no form suffix (RFC 9967 §2.4.4–2.4.6).

export const PROVISIONING_EVENTS = ['create', 'put', 'patch', 'delete', 'activate', 'deactivate'] as const;
export type ProvisioningEvent = (typeof PROVISIONING_EVENTS)[number];
export const EVENT_FORMS = ['full', 'notice'] as const;
export type EventForm = (typeof EVENT_FORMS)[number];

/** RFC 9967 §2.4: the URI prefix of provisioning events. */
export const PROV_PREFIX = 'urn:ietf:params:scim:event:prov';

const WITH_FORM = new Set<ProvisioningEvent>(['create', 'put', 'patch']);

export function eventUri(event: ProvisioningEvent, form: EventForm): string {
  return WITH_FORM.has(event) ? `${PROV_PREFIX}:${event}:${form}` : `${PROV_PREFIX}:${event}`;
}

export const hasForm = (event: ProvisioningEvent) => WITH_FORM.has(event);

/** RFC 8417 §2.3: the `typ` header of a Security Event Token. */
export const SET_TYP = 'secevent+jwt';
/** RFC 8935 §2: the media type a pushed SET is sent as. */
export const SET_MEDIA_TYPE = 'application/secevent+jwt';
