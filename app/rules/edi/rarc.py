"""Remittance Advice Remark Codes (RARC, code source 411) with their text: the 835's LQ*HE and MOA remarks.

Not the whole list, which CMS maintains and revises three times a year: the remarks a behavioral-health
practice meets beside the adjustment reasons of `carc.py`. A code outside it still reads and posts;
`remark_text` says it is not in this list.
"""

from __future__ import annotations

REMARKS: dict[str, str] = {
    "M15": (
        "Separately billed services/tests have been bundled as they are considered components of the same"
        " procedure. Separate payment is not allowed."
    ),
    "M20": "Missing/incomplete/invalid HCPCS.",
    "M51": "Missing/incomplete/invalid procedure code(s).",
    "M53": "Missing/incomplete/invalid days or units of service.",
    "M62": "Missing/incomplete/invalid treatment authorization code.",
    "M76": "Missing/incomplete/invalid diagnosis or condition.",
    "M77": "Missing/incomplete/invalid/inappropriate place of service.",
    "M79": "Missing/incomplete/invalid charge.",
    "M80": "Not covered when performed during the same session/date as a previously processed service for the patient.",
    "M81": "You are required to code to the highest level of specificity.",
    "M86": "Service denied because payment already made for same/similar procedure within set time frame.",
    "M127": "Missing patient medical record for this service.",
    "MA04": (
        "Secondary payment cannot be considered without the identity of or payment information from the"
        " primary payer. The information was either not reported or was illegible."
    ),
    "MA13": (
        "Alert: You may be subject to penalties if you bill the patient for amounts not reported with the PR"
        " (patient responsibility) group code."
    ),
    "MA18": (
        "Alert: The claim information is also being forwarded to the patient's supplemental insurer. Send any"
        " questions regarding supplemental benefits to them."
    ),
    "MA63": "Missing/incomplete/invalid principal diagnosis.",
    "MA130": (
        "Your claim contains incomplete and/or invalid information, and no appeal rights are afforded because the"
        " claim is unprocessable. Please submit a new claim with the complete/correct information."
    ),
    "N4": "Missing/Incomplete/Invalid prior Insurance Carrier(s) EOB.",
    "N19": "Procedure code incidental to primary procedure.",
    "N20": "Service not payable with other service rendered on the same date.",
    "N30": "Patient ineligible for this service.",
    "N54": "Claim information is inconsistent with pre-certified/authorized services.",
    "N56": "Procedure code billed is not correct/valid for the services billed or the date of service billed.",
    "N95": "This provider type/provider specialty may not bill this service.",
    "N122": "Add-on code cannot be billed by itself.",
    "N130": "Consult plan benefit documents/guidelines for information about restrictions for this service.",
    "N179": (
        "Additional information has been requested from the member. The charges will be reconsidered upon receipt"
        " of that information."
    ),
    "N180": "This item or service does not meet the criteria for the category under which it was billed.",
    "N211": "Alert: You may not appeal this decision.",
    "N286": "Missing/incomplete/invalid referring provider primary identifier.",
    "N290": "Missing/incomplete/invalid rendering provider primary identifier.",
    "N350": (
        "Missing/incomplete/invalid description of service for a Not Otherwise Classified (NOC) code or for an"
        " Unlisted/By Report procedure."
    ),
    "N362": "The number of Days or Units of Service exceeds our acceptable maximum.",
    "N381": (
        "Alert: Consult our contractual agreement for restrictions/billing/payment information related to these"
        " charges."
    ),
    "N425": "Statutorily excluded service(s).",
    "N432": "Adjustment based on a Recovery Audit.",
    "N479": "Missing Explanation of Benefits (Coordination of Benefits or Medicare Secondary Payer).",
    "N517": "Resubmit a new claim with the requested information.",
    "N522": "Duplicate of a claim processed, or to be processed, as a crossover claim.",
    "N640": "Exceeds number/frequency approved/allowed within time period.",
    "N657": "This should be billed with the appropriate code for these services.",
    "N702": (
        "Decision based on review of previously adjudicated claims or for claims in process for the same/similar"
        " type of services."
    ),
}


def remark_text(code: str) -> str:
    return REMARKS.get(code, f"RARC {code} (not in this service's list; see the published code list)")
