/** A DNS-1035 label: lowercase letters, digits and '-', starting with a letter (Service, app and image names). */
export const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
