"""Claim Adjustment Reason Codes (CARC, code source 139) with their text: the 835's CAS02/05/08...

Not the whole list, which X12 maintains and revises three times a year: the codes a behavioral-health
practice meets (cost sharing, contractual terms, eligibility, authorization, medical necessity, coding,
timely filing, coordination of benefits), with the short description only (the list's "Usage" notes are
left out). A code outside it still reads and posts; `adjustment_reason_text` says it is not in this list.
"""

from __future__ import annotations

ADJUSTMENT_REASONS: dict[str, str] = {
    "1": "Deductible Amount.",
    "2": "Coinsurance Amount.",
    "3": "Co-payment Amount.",
    "4": "The procedure code is inconsistent with the modifier used.",
    "5": "The procedure code/type of bill is inconsistent with the place of service.",
    "6": "The procedure/revenue code is inconsistent with the patient's age.",
    "7": "The procedure/revenue code is inconsistent with the patient's gender.",
    "8": "The procedure code is inconsistent with the provider type/specialty (taxonomy).",
    "9": "The diagnosis is inconsistent with the patient's age.",
    "10": "The diagnosis is inconsistent with the patient's gender.",
    "11": "The diagnosis is inconsistent with the procedure.",
    "12": "The diagnosis is inconsistent with the provider type.",
    "13": "The date of death precedes the date of service.",
    "14": "The date of birth follows the date of service.",
    "15": "The authorization number is missing, invalid, or does not apply to the billed services or provider.",
    "16": "Claim/service lacks information or has submission/billing error(s).",
    "18": "Exact duplicate claim/service.",
    "19": "This is a work-related injury/illness and thus the liability of the Worker's Compensation Carrier.",
    "22": "This care may be covered by another payer per coordination of benefits.",
    "23": "The impact of prior payer(s) adjudication including payments and/or adjustments.",
    "24": "Charges are covered under a capitation agreement/managed care plan.",
    "26": "Expenses incurred prior to coverage.",
    "27": "Expenses incurred after coverage terminated.",
    "29": "The time limit for filing has expired.",
    "31": "Patient cannot be identified as our insured.",
    "32": "Our records indicate the patient is not an eligible dependent.",
    "35": "Lifetime benefit maximum has been reached.",
    "39": "Services denied at the time authorization/pre-certification was requested.",
    "45": "Charge exceeds fee schedule/maximum allowable or contracted/legislated fee arrangement.",
    "50": "These are non-covered services because this is not deemed a 'medical necessity' by the payer.",
    "55": "Procedure/treatment/drug is deemed experimental/investigational by the payer.",
    "56": "Procedure/treatment has not been deemed 'proven to be effective' by the payer.",
    "58": "Treatment was deemed by the payer to have been rendered in an inappropriate or invalid place of service.",
    "59": "Processed based on multiple or concurrent procedure rules.",
    "96": "Non-covered charge(s).",
    "97": (
        "The benefit for this service is included in the payment/allowance for another service/procedure"
        " that has already been adjudicated."
    ),
    "100": "Payment made to patient/insured/responsible party.",
    "107": "The related or qualifying claim/service was not identified on this claim.",
    "109": (
        "Claim/service not covered by this payer/contractor. You must send the claim/service to the correct"
        " payer/contractor."
    ),
    "119": "Benefit maximum for this time period or occurrence has been reached.",
    "125": "Submission/billing error(s).",
    "129": "Prior processing information appears incorrect.",
    "133": "The disposition of this service line is pending further review.",
    "140": "Patient/Insured health identification number and name do not match.",
    "146": "Diagnosis was invalid for the date(s) of service reported.",
    "147": "Provider contracted/negotiated rate expired or not on file.",
    "150": "Payer deems the information submitted does not support this level of service.",
    "151": "Payment adjusted because the payer deems the information submitted does not support this many/frequency"
    " of services.",
    "167": "This (these) diagnosis(es) is (are) not covered.",
    "170": "Payment is denied when performed/billed by this type of provider.",
    "171": "Payment is denied when performed/billed by this type of provider in this type of facility.",
    "177": "Patient has not met the required eligibility requirements.",
    "181": "Procedure code was invalid on the date of service.",
    "182": "Procedure modifier was invalid on the date of service.",
    "183": "The referring provider is not eligible to refer the service billed.",
    "185": "The rendering provider is not eligible to perform the service billed.",
    "189": (
        "'Not otherwise classified' or 'unlisted' procedure code (CPT/HCPCS) was billed when there is a specific"
        " procedure code for this procedure/service."
    ),
    "197": "Precertification/authorization/notification/pre-treatment absent.",
    "198": "Precertification/notification/authorization/pre-treatment exceeded.",
    "200": "Expenses incurred during lapse in coverage.",
    "204": "This service/equipment/drug is not covered under the patient's current benefit plan.",
    "206": "National Provider Identifier - missing.",
    "207": "National Provider identifier - Invalid format.",
    "208": "National Provider Identifier - Not matched.",
    "222": (
        "Exceeds the contracted maximum number of hours/days/units by this provider for this period."
        " This is not patient specific."
    ),
    "226": (
        "Information requested from the Billing/Rendering Provider was not provided or not provided timely"
        " or was insufficient/incomplete."
    ),
    "227": "Information requested from the patient/insured/responsible party was not provided or was"
    " insufficient/incomplete.",
    "234": "This procedure is not paid separately.",
    "242": "Services not provided by network/primary care providers.",
    "243": "Services not authorized by network/primary care providers.",
    "252": "An attachment/other documentation is required to adjudicate this claim/service.",
    "253": "Sequestration - reduction in federal payment.",
    "273": "Coverage/program guidelines were exceeded.",
    "A1": "Claim/Service denied.",
    "B7": "This provider was not certified/eligible to be paid for this procedure/service on this date of service.",
    "B11": (
        "The claim/service has been transferred to the proper payer/processor for processing."
        " Claim/service not covered by this payer/processor."
    ),
    "B13": "Previously paid. Payment for this claim/service may have been provided in a previous payment.",
}


def adjustment_reason_text(code: str) -> str:
    return ADJUSTMENT_REASONS.get(code, f"CARC {code} (not in this service's list; see the published code list)")
