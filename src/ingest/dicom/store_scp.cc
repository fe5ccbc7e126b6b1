// The C-STORE SCP: DCMTK's SCP pool, one DicomBatch per association. See store_scp.h.
#include "ingest/dicom/store_scp.h"

#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/scppool.h>
#include <dcmtk/dcmnet/scpthrd.h>
#include <dcmtk/oflog/oflog.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>

namespace oncomesh::ingest {
namespace {

// DCMTK constructs each worker's SCP with no arguments: the running SCP's context is reached
// through this (one StoreScp per process, as one node per process).
struct Context {
  const node::NodeDir* node = nullptr;
  const StoreScpOptions* options = nullptr;
};
std::mutex context_mu;
Context context;

// C-STORE response statuses (PS3.4 Annex B.2.3).
constexpr Uint16 kSuccess = STATUS_Success;
constexpr Uint16 kOutOfResources = 0xA700;
constexpr Uint16 kDataSetDoesNotMatch = 0xA900;
constexpr Uint16 kCannotUnderstand = 0xC000;

class Worker : public DcmThreadSCP {
 public:
  Worker() {
    std::lock_guard<std::mutex> lock(context_mu);
    ctx_ = context;
  }

 protected:
  void notifyAssociationAcknowledge() override {
    batch_.reset();
    store_.reset();
    error_.clear();
    Result<std::unique_ptr<store::Store>> s = ctx_.node->OpenStore();
    if (!s.ok()) {
      error_ = s.status().message();
      return;
    }
    store_ = std::move(*s);
    Result<std::unique_ptr<DicomBatch>> b =
        DicomBatch::Begin(*ctx_.node, *store_, ctx_.options->ingest,
                          "C-STORE from " + std::string(getPeerAETitle().c_str()) + "@" +
                              getPeerIP().c_str());
    if (!b.ok()) {
      error_ = b.status().message();
      return;
    }
    batch_ = std::move(*b);
  }

  OFCondition handleIncomingCommand(T_DIMSE_Message* msg,
                                    const DcmPresentationContextInfo& info) override {
    if (msg->CommandField != DIMSE_C_STORE_RQ) return DcmThreadSCP::handleIncomingCommand(msg, info);
    T_DIMSE_C_StoreRQ& request = msg->msg.CStoreRQ;
    DcmFileFormat file;
    DcmDataset* dataset = file.getDataset();
    OFCondition cond = receiveSTORERequest(request, info.presentationContextID, dataset);
    if (cond.bad()) return cond;  // the association is broken: DcmSCP ends it
    Uint16 status = kSuccess;
    std::string comment;
    if (!batch_) {
      status = kOutOfResources;
      comment = "the node cannot store now: " + error_;
    } else {
      const DicomOutcome out = batch_->AddDataset(
          file, "C-STORE from " + std::string(getPeerAETitle().c_str()) + "@" +
                    getPeerIP().c_str() + " (" + request.AffectedSOPInstanceUID + ")");
      switch (out.kind) {
        case DicomOutcome::Kind::kStored:
        case DicomOutcome::Kind::kAlreadyStored:
          break;
        case DicomOutcome::Kind::kQuarantined:
          status = kCannotUnderstand;
          comment = out.reason;
          break;
        case DicomOutcome::Kind::kFailed:
          status = out.reason.rfind("missing mandatory", 0) == 0 ? kDataSetDoesNotMatch
                                                                  : kOutOfResources;
          comment = out.reason;
          break;
      }
    }
    if (comment.empty()) return sendSTOREResponse(info.presentationContextID, request, status);
    // With an Error Comment (0000,0902) saying why (at most 64 characters).
    T_DIMSE_Message rsp;
    std::memset(&rsp, 0, sizeof rsp);
    rsp.CommandField = DIMSE_C_STORE_RSP;
    T_DIMSE_C_StoreRSP& r = rsp.msg.CStoreRSP;
    r.MessageIDBeingRespondedTo = request.MessageID;
    r.DimseStatus = status;
    r.DataSetType = DIMSE_DATASET_NULL;
    OFStandard::strlcpy(r.AffectedSOPClassUID, request.AffectedSOPClassUID, sizeof r.AffectedSOPClassUID);
    OFStandard::strlcpy(r.AffectedSOPInstanceUID, request.AffectedSOPInstanceUID,
                        sizeof r.AffectedSOPInstanceUID);
    r.opts = O_STORE_AFFECTEDSOPCLASSUID | O_STORE_AFFECTEDSOPINSTANCEUID;
    DcmDataset detail;
    detail.putAndInsertString(DCM_ErrorComment, comment.substr(0, 64).c_str());
    return sendDIMSEMessage(info.presentationContextID, &rsp, nullptr, &detail);
  }

  void notifyReleaseRequest() override {
    if (!batch_) return;
    Result<store::IngestCounts> counts = batch_->Commit();
    if (!counts.ok()) {
      std::cerr << "dicom: the instances of association from " << getPeerAETitle().c_str()
                << " could not be committed: " << counts.status().message() << "\n";
      (void)abortAssociation();
    } else if (counts->added > 0 && ctx_.options->on_commit) {
      ctx_.options->on_commit();
    }
    batch_.reset();
  }

  void notifyAbortRequest() override { batch_.reset(); }  // nothing of it is stored

  void notifyAssociationTermination() override {
    batch_.reset();  // released or aborted: a batch still open here is dropped
    store_.reset();
  }

 private:
  Context ctx_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<DicomBatch> batch_;
  std::string error_;
};

}  // namespace

struct StoreScp::Pool : public DcmSCPPool<Worker> {};

StoreScp::StoreScp(const node::NodeDir& node, StoreScpOptions options)
    : node_(node), options_(std::move(options)) {}

Result<std::unique_ptr<StoreScp>> StoreScp::Start(const node::NodeDir& node,
                                                  StoreScpOptions options) {
  if (options.port == 0) return InvalidArgument("dicom: the C-STORE SCP needs a port");
  if (options.ae_title.empty() || options.ae_title.size() > 16) {
    return InvalidArgument("dicom: the AE title must be 1 to 16 characters, not '" +
                           options.ae_title + "'");
  }
  std::unique_ptr<StoreScp> scp(new StoreScp(node, std::move(options)));
  {
    std::lock_guard<std::mutex> lock(context_mu);
    if (context.node != nullptr) return FailedPrecondition("dicom: a C-STORE SCP already runs");
    context = {&scp->node_, &scp->options_};
  }
  OFLog::configure(OFLogger::WARN_LOG_LEVEL);
  // DCMTK sets TCP_NODELAY on its sockets only when this variable says so; without it every
  // C-STORE waited for the peer's delayed ACK (Nagle): 11 instances/s from storescu on the
  // loopback, 1,200/s with it. An operator's own setting wins.
  ::setenv("TCP_NODELAY", "1", 0);
  scp->pool_ = std::make_unique<Pool>();
  DcmSCPConfig& config = scp->pool_->getConfig();
  config.setPort(scp->options_.port);
  config.setAETitle(scp->options_.ae_title.c_str());
  config.setConnectionBlockingMode(DUL_NOBLOCK);
  config.setConnectionTimeout(1);  // seconds: how soon Stop() is noticed
  config.setHostLookupEnabled(OFFalse);
  scp->pool_->setMaxThreads(static_cast<Uint16>(scp->options_.max_associations));
  OFList<OFString> syntaxes;
  // In order of preference when a context offers several: lossless encodings first, so that
  // an image sent in RLE or JPEG-LS is taken as it is (the sender need not decode it), then the
  // uncompressed ones, lossy encodings last (taken only when nothing else is offered).
  for (const char* uid :
       {UID_RLELosslessTransferSyntax, UID_JPEGLSLosslessTransferSyntax,
        UID_JPEG2000LosslessOnlyTransferSyntax, UID_JPEGProcess14SV1TransferSyntax,
        UID_JPEGProcess14TransferSyntax, UID_DeflatedExplicitVRLittleEndianTransferSyntax,
        UID_LittleEndianExplicitTransferSyntax, UID_BigEndianExplicitTransferSyntax,
        UID_LittleEndianImplicitTransferSyntax, UID_JPEGProcess1TransferSyntax,
        UID_JPEGProcess2_4TransferSyntax, UID_JPEGLSLossyTransferSyntax,
        UID_JPEG2000TransferSyntax}) {
    syntaxes.push_back(uid);
  }
  // DCMTK takes at most 128 presentation contexts a profile: the 120 storage SOP classes its
  // own storescu proposes (images of every modality, SEG, RT, SR, presentation states…).
  for (int i = 0; i < numberOfDcmLongSCUStorageSOPClassUIDs; ++i) {
    const OFCondition added =
        config.addPresentationContext(dcmLongSCUStorageSOPClassUIDs[i], syntaxes);
    if (added.bad()) {
      std::lock_guard<std::mutex> lock(context_mu);
      context = {};
      return Internal(std::string("dicom: cannot configure the presentation context of ") +
                      dcmLongSCUStorageSOPClassUIDs[i] + ": " + added.text());
    }
  }
  OFList<OFString> echo_syntaxes;
  echo_syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
  echo_syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
  (void)config.addPresentationContext(UID_VerificationSOPClass, echo_syntaxes);
  // A port in use must be an error of Start, not of a thread nobody watches: try it first.
  {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(scp->options_.port);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    const bool free = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (fd >= 0) ::close(fd);
    if (!free) {
      std::lock_guard<std::mutex> lock(context_mu);
      context = {};
      return Unavailable("dicom: cannot listen on port " + std::to_string(scp->options_.port) +
                         " (in use?)");
    }
  }
  Pool* pool = scp->pool_.get();
  scp->thread_ = std::thread([pool] { (void)pool->listen(); });
  return scp;
}

StoreScp::~StoreScp() { Stop(); }

void StoreScp::Stop() {
  if (pool_ && thread_.joinable()) {
    pool_->stopAfterCurrentAssociations();
    thread_.join();
  }
  std::lock_guard<std::mutex> lock(context_mu);
  if (context.options == &options_) context = {};
}

}  // namespace oncomesh::ingest
