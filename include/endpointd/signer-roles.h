/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The signer role of each kind of manufacturer-signed artefact: the
 * extended key usage (EKU) its signer certificate must carry, besides
 * keyUsage digitalSignature (endpointd-manifest(5), endpointd-policy(5)).
 * Manifests use the standard codeSigning purpose. Grants and licences use
 * OIDs of the project's own, under the 2.25 arc (ITU-T X.667: an OID made
 * from a random UUID, which needs no registration). They are fixed here,
 * once and for all: changing one invalidates every certificate issued for
 * that role. The test harness reads them from this file. */

/* id-kp-codeSigning (RFC 5280). */
#define ENDPOINTD_EKU_MANIFEST_NAME "codeSigning"
#define ENDPOINTD_EKU_MANIFEST_OID "1.3.6.1.5.5.7.3.3"

/* UUID ef6cb355-9d1c-4532-b40a-f442f73e6b3d. */
#define ENDPOINTD_EKU_GRANT_NAME "endpointd-grant"
#define ENDPOINTD_EKU_GRANT_OID "2.25.318249896387652845612864120362501040957"

/* UUID 16b119d4-f467-4dc9-8ddf-4d9dc3b13f37. */
#define ENDPOINTD_EKU_LICENCE_NAME "endpointd-licence"
#define ENDPOINTD_EKU_LICENCE_OID "2.25.30162576383478587106000040060324495159"

/* PCR approvals (endpointd-approval(5)); the signer certificate's key is
 * also the PCR-policy key of TPM2_PolicyAuthorize.
 * UUID 7bb14be3-9436-4d90-9875-032417a068b4. */
#define ENDPOINTD_EKU_APPROVAL_NAME "endpointd-pcr-approval"
#define ENDPOINTD_EKU_APPROVAL_OID "2.25.164415619236887911208058874086226421940"
