"""The code lists the payer's answers speak in, with the text a billing office reads (CARC and RARC have modules
of their own). Each names its X12 data element or external code source; `describe` turns a code into text."""

from __future__ import annotations

from collections.abc import Mapping

# Health Care Claim Status Category Code (code source 507): STC01-1 of the 277CA.
CLAIM_STATUS_CATEGORIES: dict[str, str] = {
    "A0": "Acknowledgement/Forwarded: the claim/encounter has been forwarded to another entity.",
    "A1": "Acknowledgement/Receipt: the claim/encounter has been received; this does not mean it has been"
    " accepted for adjudication.",
    "A2": "Acknowledgement/Acceptance into adjudication system: the claim/encounter has been accepted into the"
    " adjudication system.",
    "A3": "Acknowledgement/Returned as unprocessable claim: the claim/encounter has been rejected and has not been"
    " entered into the adjudication system.",
    "A4": "Acknowledgement/Not Found: the claim/encounter can not be found in the adjudication system.",
    "A5": "Acknowledgement/Split Claim: the claim/encounter has been split upon acceptance into the adjudication"
    " system.",
    "A6": "Acknowledgement/Rejected for Missing Information: the claim/encounter is missing the information"
    " specified in the status details and has been rejected.",
    "A7": "Acknowledgement/Rejected for Invalid Information: the claim/encounter has invalid information as"
    " specified in the status details and has been rejected.",
    "A8": "Acknowledgement/Rejected for relational field in error.",
    "D0": "Data Search Unsuccessful.",
    "E0": "Response not possible: error on submitted request data.",
    "E1": "Response not possible: system status.",
    "E2": "Information Holder is not responding; resubmit at a later time.",
    "E3": "Correction required: relational fields in error.",
    "E4": "Trading partner agreement specific requirement not met: data correction required.",
    "F0": "Finalized: the claim/encounter has completed the adjudication cycle and no more action will be taken.",
    "F1": "Finalized/Payment: the claim/line has been paid.",
    "F2": "Finalized/Denial: the claim/line has been denied.",
    "F3": "Finalized/Revised: adjudication information has been changed.",
    "F3F": "Finalized/Forwarded: processing is complete, any payment made, and the claim forwarded to a"
    " subsequent entity.",
    "F3N": "Finalized/Not Forwarded: processing is complete, any payment made, and the claim not forwarded.",
    "F4": "Finalized/Adjudication Complete: no payment forthcoming.",
    "P0": "Pending: Adjudication/Details.",
    "P1": "Pending/In Process: the claim or encounter is in the adjudication system.",
    "P2": "Pending/Payer Review: the claim/encounter is suspended pending review.",
    "P3": "Pending/Provider Requested Information: waiting for information already requested from the provider.",
    "P4": "Pending/Patient Requested Information: waiting for information already requested from the patient.",
    "P5": "Pending/Payer Administrative/System hold.",
    "R0": "Requests for additional Information/General Requests.",
    "R1": "Requests for additional Information/Entity Requests.",
    "R3": "Requests for additional Information/Claim/Line.",
    "R4": "Requests for additional Information/Documentation.",
    "R5": "Requests for additional information/more specific detail.",
}

# The categories that refuse a claim at the front door: a rejected claim never reaches adjudication.
REJECTING_CATEGORIES = frozenset({"A3", "A6", "A7", "A8"})
ACCEPTING_CATEGORIES = frozenset({"A1", "A2", "A5"})

# Health Care Claim Status Code (code source 508): STC01-2. The ones a 277CA answers a professional claim with.
CLAIM_STATUS_CODES: dict[str, str] = {
    "0": "Cannot provide further status electronically.",
    "1": "For more detailed information, see remittance advice.",
    "2": "More detailed information in letter.",
    "3": "Claim has been adjudicated and is awaiting payment cycle.",
    "6": "Balance due from the subscriber.",
    "15": "One or more originally submitted procedure codes have been modified.",
    "16": "Claim/encounter has been forwarded to entity.",
    "19": "Entity acknowledges receipt of claim/encounter.",
    "20": "Accepted for processing.",
    "21": "Missing or invalid information.",
    "23": "Returned to Entity.",
    "24": "Entity not approved as an electronic submitter.",
    "25": "Entity not approved.",
    "26": "Entity not found.",
    "27": "Policy canceled.",
    "29": "Subscriber and policy number/contract number mismatched.",
    "30": "Subscriber and subscriber id mismatched.",
    "31": "Subscriber and policyholder name mismatched.",
    "32": "Subscriber and policy number/contract number not found.",
    "33": "Subscriber and subscriber id not found.",
    "35": "Claim/encounter not found.",
    "41": "Special handling required at payer site.",
    "47": "Awaiting benefit determination.",
    "65": "Claim/line has been paid.",
    "88": "Entity not eligible for benefits for submitted dates of service.",
    "97": "Patient eligibility not found with entity.",
    "101": "Claim was processed as adjustment to previous claim.",
    "116": "Claim submitted to incorrect payer.",
    "128": "Entity's tax id.",
    "145": "Entity's primary identifier.",
    "153": "Entity's id number.",
    "164": "Entity's contract/member number.",
    "187": "Date(s) of service.",
    "247": "Line Information.",
    "254": "Principal diagnosis code.",
    "255": "Diagnosis code.",
    "400": "Claim is out of balance.",
    "453": "Procedure Code Modifier(s) for Service(s) Rendered.",
    "454": "Procedure code for services rendered.",
    "464": "Payer Assigned Claim Control Number.",
    "562": "Entity's National Provider Identifier (NPI).",
}

# Entity Identifier Code (98): STC01-3 says whom a status code is about.
ENTITIES: dict[str, str] = {
    "03": "Dependent",
    "1P": "Provider",
    "40": "Receiver",
    "41": "Submitter",
    "77": "Service Location",
    "82": "Rendering Provider",
    "85": "Billing Provider",
    "DN": "Referring Provider",
    "FA": "Facility",
    "IL": "Insured or Subscriber",
    "PE": "Payee",
    "PR": "Payer",
    "QC": "Patient",
}

# Claim Status Code (1029): CLP02 of the 835.
CLAIM_PAYMENT_STATUSES: dict[str, str] = {
    "1": "Processed as Primary",
    "2": "Processed as Secondary",
    "3": "Processed as Tertiary",
    "4": "Denied",
    "19": "Processed as Primary, Forwarded to Additional Payer(s)",
    "20": "Processed as Secondary, Forwarded to Additional Payer(s)",
    "21": "Processed as Tertiary, Forwarded to Additional Payer(s)",
    "22": "Reversal of Previous Payment",
    "23": "Not Our Claim, Forwarded to Additional Payer(s)",
    "25": "Predetermination Pricing Only - No Payment",
}
PROCESSED_STATUSES = frozenset({"1", "2", "3", "19", "20", "21"})
DENIED, REVERSAL, NOT_OUR_CLAIM = "4", "22", "23"

# Claim Adjustment Group Code (1033): CAS01. CR was 4010's; 5010 payers no longer send it, but it still reads.
ADJUSTMENT_GROUPS: dict[str, str] = {
    "CO": "Contractual Obligations",
    "CR": "Corrections and Reversals",
    "OA": "Other Adjustments",
    "PI": "Payor Initiated Reductions",
    "PR": "Patient Responsibility",
}

# Adjustment Reason Code (426): PLB03-1, the provider-level adjustments of the 835.
PROVIDER_ADJUSTMENT_REASONS: dict[str, str] = {
    "50": "Late Charge",
    "51": "Interest Penalty Charge",
    "72": "Authorized Return",
    "90": "Early Payment Allowance",
    "AH": "Origination Fee",
    "AM": "Applied to Borrower's Account",
    "AP": "Acceleration of Benefits",
    "B2": "Rebate",
    "B3": "Recovery Allowance",
    "BD": "Bad Debt Adjustment",
    "BN": "Bonus",
    "C5": "Temporary Allowance",
    "CR": "Capitation Interest",
    "CS": "Adjustment",
    "CT": "Capitation Payment",
    "CV": "Capital Passthru",
    "E3": "Withholding",
    "FB": "Forwarding Balance",
    "FC": "Fund Allocation",
    "IP": "Incentive Premium Payment",
    "IR": "Internal Revenue Service Withholding",
    "IS": "Interim Settlement",
    "J1": "Nonreimbursable",
    "L3": "Penalty",
    "L6": "Interest Owed",
    "LE": "Levy",
    "LS": "Lump Sum",
    "OB": "Offset for Affiliated Providers",
    "PI": "Periodic Interim Payment",
    "PL": "Payment Final",
    "RA": "Retro-activity Adjustment",
    "TL": "Third Party Liability",
    "WO": "Overpayment Recovery",
    "WU": "Unspecified Recovery",
}

# Transaction Handling Code (305): BPR01; Payment Method Code (591): BPR04.
PAYMENT_HANDLING: dict[str, str] = {
    "C": "Payment Accompanies Remittance Advice",
    "D": "Make Payment Only",
    "H": "Notification Only",
    "I": "Remittance Information Only",
    "P": "Prenotification of Future Transfers",
    "U": "Split Payment and Remittance",
    "X": "Handling Party's Option to Split Payment and Remittance",
}
PAYMENT_METHODS: dict[str, str] = {
    "ACH": "Automated Clearing House (ACH)",
    "BOP": "Financial Institution Option",
    "CHK": "Check",
    "FWT": "Federal Reserve Funds/Wire Transfer - Nonrepetitive",
    "NON": "Non-Payment Data",
}

# Service Type Code (1365): EQ01 of the 270, EB03 of the 271. Behavioral health first, then the general ones
# a payer answers with. (The CE-CJ mental-health provider and facility codes are later than 5010's list.)
SERVICE_TYPES: dict[str, str] = {
    "MH": "Mental Health",
    "AI": "Substance Abuse",
    "AJ": "Alcoholism",
    "AK": "Drug Addiction",
    "A4": "Psychiatric",
    "A6": "Psychotherapy",
    "A7": "Psychiatric - Inpatient",
    "A8": "Psychiatric - Outpatient",
    "BB": "Partial Hospitalization (Psychiatric)",
    "BC": "Day Care (Psychiatric)",
    "BD": "Cognitive Therapy",
    "1": "Medical Care",
    "30": "Health Benefit Plan Coverage",
    "98": "Professional (Physician) Visit - Office",
    "UC": "Urgent Care",
    "86": "Emergency Services",
    "47": "Hospital",
    "48": "Hospital - Inpatient",
    "50": "Hospital - Outpatient",
    "88": "Pharmacy",
}
BEHAVIORAL_HEALTH_SERVICE_TYPES = frozenset({"MH", "AI", "AJ", "AK", "A4", "A6", "A7", "A8", "BB", "BC", "BD"})

# Eligibility or Benefit Information Code (1390): EB01 of the 271.
BENEFITS: dict[str, str] = {
    "1": "Active Coverage",
    "2": "Active - Full Risk Capitation",
    "3": "Active - Services Capitated",
    "4": "Active - Services Capitated to Primary Care Physician",
    "5": "Active - Pending Investigation",
    "6": "Inactive",
    "7": "Inactive - Pending Eligibility Update",
    "8": "Inactive - Pending Investigation",
    "A": "Co-Insurance",
    "B": "Co-Payment",
    "C": "Deductible",
    "CB": "Coverage Basis",
    "D": "Benefit Description",
    "E": "Exclusions",
    "F": "Limitations",
    "G": "Out of Pocket (Stop Loss)",
    "I": "Non-Covered",
    "L": "Primary Care Provider",
    "MC": "Managed Care Coordinator",
    "P": "Benefit Disclaimer",
    "R": "Other or Additional Payor",
    "U": "Contact Following Entity for Eligibility or Benefit Information",
    "V": "Cannot Process",
    "Y": "Spend Down",
}
ACTIVE_BENEFITS = frozenset({"1", "2", "3", "4", "5"})
INACTIVE_BENEFITS = frozenset({"6", "7", "8"})
COINSURANCE, COPAYMENT, DEDUCTIBLE = "A", "B", "C"

# Time Period Qualifier (615): EB06.
TIME_PERIODS: dict[str, str] = {
    "6": "Hour",
    "7": "Day",
    "21": "Years",
    "22": "Service Year",
    "23": "Calendar Year",
    "24": "Year to Date",
    "25": "Contract",
    "26": "Episode",
    "27": "Visit",
    "29": "Remaining",
    "32": "Lifetime",
    "34": "Month",
    "35": "Week",
}

# Date/Time Qualifier (374) of the 271's subscriber and benefit dates.
ELIGIBILITY_DATES: dict[str, str] = {
    "096": "Discharge",
    "193": "Period Start",
    "194": "Period End",
    "291": "Plan",
    "292": "Benefit",
    "307": "Eligibility",
    "346": "Plan Begin",
    "347": "Plan End",
    "348": "Benefit Begin",
    "349": "Benefit End",
    "356": "Eligibility Begin",
    "357": "Eligibility End",
    "435": "Admission",
    "472": "Service",
}

# Reject Reason Code (901): AAA03, why a 270 could not be answered.
REQUEST_REJECTIONS: dict[str, str] = {
    "04": "Authorized Quantity Exceeded",
    "15": "Required application data missing",
    "33": "Input Errors",
    "41": "Authorization/Access Restrictions",
    "42": "Unable to Respond at Current Time",
    "43": "Invalid/Missing Provider Identification",
    "44": "Invalid/Missing Provider Name",
    "50": "Provider Ineligible for Inquiries",
    "51": "Provider Not on File",
    "56": "Inappropriate Date",
    "57": "Invalid/Missing Date(s) of Service",
    "58": "Invalid/Missing Date-of-Birth",
    "62": "Date of Service Not Within Allowable Inquiry Period",
    "63": "Date of Service in Future",
    "64": "Invalid/Missing Patient ID",
    "65": "Invalid/Missing Patient Name",
    "67": "Patient Not Found",
    "71": "Patient Birth Date Does Not Match That for the Patient on the Database",
    "72": "Invalid/Missing Subscriber/Insured ID",
    "73": "Invalid/Missing Subscriber/Insured Name",
    "75": "Subscriber/Insured Not Found",
    "76": "Duplicate Subscriber/Insured ID Number",
    "78": "Subscriber/Insured Not in Group/Plan Identified",
    "79": "Invalid Participant Identification",
    "80": "No Response received - Transaction Terminated",
    "T4": "Payer Name or Identifier Missing",
}

# Follow-up Action Code (889): AAA04.
FOLLOW_UP_ACTIONS: dict[str, str] = {
    "C": "Please Correct and Resubmit",
    "N": "Resubmission Not Allowed",
    "P": "Please Resubmit Original Transaction",
    "R": "Resubmission Allowed",
    "S": "Do Not Resubmit; Inquiry Initiated to a Third Party",
    "W": "Please Wait 30 Days and Resubmit",
    "X": "Please Wait 10 Days and Resubmit",
    "Y": "Do Not Resubmit; We Will Hand Off Your Request",
}

# The 999's own codes: IK501/AK901 (717), IK304 (620), IK403 (621), IK502 (618), AK905 (716).
ACKNOWLEDGMENTS: dict[str, str] = {
    "A": "Accepted",
    "E": "Accepted But Errors Were Noted",
    "M": "Rejected, Message Authentication Code (MAC) Failed",
    "P": "Partially Accepted, At Least One Transaction Set Was Rejected",
    "R": "Rejected",
    "W": "Rejected, Assurance Failed Validity Tests",
    "X": "Rejected, Content After Decryption Could Not Be Analyzed",
}
SEGMENT_ERRORS: dict[str, str] = {
    "1": "Unrecognized segment ID",
    "2": "Unexpected segment",
    "3": "Required Segment Missing",
    "4": "Loop Occurs Over Maximum Times",
    "5": "Segment Exceeds Maximum Use",
    "6": "Segment Not in Defined Transaction Set",
    "7": "Segment Not in Proper Sequence",
    "8": "Segment Has Data Element Errors",
    "I4": 'Implementation "Not Used" Segment Present',
    "I6": "Implementation Dependent Segment Missing",
    "I7": "Implementation Loop Occurs Under Minimum Times",
    "I8": "Implementation Segment Below Minimum Use",
    "I9": 'Implementation Dependent "Not Used" Segment Present',
}
ELEMENT_ERRORS: dict[str, str] = {
    "1": "Required Data Element Missing",
    "2": "Conditional Required Data Element Missing",
    "3": "Too Many Data Elements",
    "4": "Data Element Too Short",
    "5": "Data Element Too Long",
    "6": "Invalid Character In Data Element",
    "7": "Invalid Code Value",
    "8": "Invalid Date",
    "9": "Invalid Time",
    "10": "Exclusion Condition Violated",
    "12": "Too Many Repetitions",
    "13": "Too Many Components",
    "I6": "Code Value Not Used in Implementation",
    "I9": "Implementation Dependent Data Element Missing",
    "I10": 'Implementation "Not Used" Data Element Present',
    "I11": "Implementation Too Few Repetitions",
    "I12": "Implementation Pattern Match Failure",
    "I13": 'Implementation Dependent "Not Used" Data Element Present',
}
TRANSACTION_SET_ERRORS: dict[str, str] = {
    "1": "Transaction Set Not Supported",
    "2": "Transaction Set Trailer Missing",
    "3": "Transaction Set Control Number in Header and Trailer Do Not Match",
    "4": "Number of Included Segments Does Not Match Actual Count",
    "5": "One or More Segments in Error",
    "6": "Missing or Invalid Transaction Set Identifier",
    "7": "Missing or Invalid Transaction Set Control Number",
    "18": "Transaction Set Not in Functional Group",
    "19": "Invalid Transaction Set Implementation Convention Reference",
    "23": "Transaction Set Control Number Not Unique within the Functional Group",
    "I5": "Implementation One or More Segments in Error",
    "I6": "Implementation Convention Not Supported",
}
GROUP_ERRORS: dict[str, str] = {
    "1": "Functional Group Not Supported",
    "2": "Functional Group Version Not Supported",
    "3": "Functional Group Trailer Missing",
    "4": "Group Control Number in the Functional Group Header and Trailer Do Not Agree",
    "5": "Number of Included Transaction Sets Does Not Match Actual Count",
    "6": "Group Control Number Violates Syntax",
}


def describe(codes: Mapping[str, str], code: str) -> str:
    """The code's text, or the code itself where the list does not know it (a payer may use a newer one)."""
    return codes.get(code, f"code {code}")
